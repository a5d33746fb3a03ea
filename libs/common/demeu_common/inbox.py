"""Idempotent consumption: each consumer records the ids of the events it has handled in the
same transaction as the handling's effect. A redelivered event finds its id already there and
changes nothing, by construction rather than by luck.

Each service maps the table with its own base::

    class ProcessedEvent(ProcessedEventMixin, Base):
        pass

and declares ``inbox = Inbox(ProcessedEvent)``. In a handler::

    with self.db.get_session() as session:
        if not self.inbox.claim(session, event):
            return  # seen before
        ...apply the effect...
"""
from nameko.extensions import DependencyProvider
from sqlalchemy import DateTime, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from demeu_common.clock import utcnow


class ProcessedEventMixin:
    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)


def claim(session, model, consumer, event_id):
    """Mark ``event_id`` handled by ``consumer`` within the session's transaction.

    Returns False when it was handled before. When two instances race on one event, the
    second insert waits for the first transaction and then finds the row (PostgreSQL), or
    waits for the write lock (SQLite): only one applies the effect.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(model)
        .values(consumer=consumer, event_id=event_id, processed_at=utcnow())
        .on_conflict_do_nothing()
    )
    return session.execute(statement).rowcount == 1


class InboxClaimer:
    def __init__(self, model, consumer):
        self.model = model
        self.consumer = consumer

    def claim(self, session, event, consumer=None):
        return claim(session, self.model, consumer or self.consumer, event["id"])


class Inbox(DependencyProvider):
    """Gives each worker a claimer named after its entrypoint, ``<service>.<method>``, so two
    handlers of one event in one service each handle it once."""

    def __init__(self, model):
        self.model = model

    def get_dependency(self, worker_ctx):
        consumer = f"{worker_ctx.service_name}.{worker_ctx.entrypoint.method_name}"
        return InboxClaimer(self.model, consumer)
