"""Transactional outbox: events are rows written in the same transaction as the change that
causes them, and a relay publishes them to RabbitMQ afterwards, with publisher confirms.

So an event is never lost when the broker is down (the row waits), and never published for a
change that rolled back (the row rolled back with it). Publishing is at least once: a crash
between the broker's confirm and marking the row sends it again, with the same CloudEvent id,
which every consumer deduplicates (see :mod:`demeu_common.inbox`).

Each service maps the table with its own declarative base::

    class OutboxRecord(OutboxRecordMixin, Base):
        pass

and declares ``outbox = Outbox(OutboxRecord)`` on its Nameko class. Inside a unit of work::

    with self.db.get_session() as session:
        ...change rows...
        self.outbox.record(session, "donation.succeeded", data, subject=donation.id)
"""
import json
import logging
import os

import eventlet
from eventlet.queue import Empty, LightQueue
from nameko.amqp.publish import Publisher
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange
from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, event, select, update
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, sessionmaker

from demeu_common.clock import utcnow
from demeu_common.cloudevents import make_event
from demeu_common.config import amqp_uri, database_url
from demeu_common.db import is_postgres, make_engine

log = logging.getLogger(__name__)

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SequenceNumber = BigInteger().with_variant(Integer(), "sqlite")


class OutboxRecordMixin:
    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    envelope: Mapped[str] = mapped_column(Text, nullable=False)
    recorded_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    published_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=True)

    @declared_attr.directive
    def __table_args__(cls):
        # The relay's only query: the oldest unpublished rows. (A fresh Index per mapped
        # class: each service maps its own outbox table.)
        return (Index("ix_outbox_unpublished", "published_at", "seq"),)


class OutboxWriter:
    """What a worker sees: ``record()`` adds the event to the caller's session."""

    def __init__(self, provider):
        self._provider = provider

    def record(self, session, event_type, data, *, subject=None):
        envelope = make_event(self._provider.service_name, event_type, data, subject=subject)
        session.add(
            self._provider.record_model(
                event_id=envelope["id"],
                event_type=event_type,
                envelope=json.dumps(envelope, ensure_ascii=False, separators=(",", ":")),
                recorded_at=utcnow(),
            )
        )
        # Publish as soon as the transaction lands rather than at the next poll.
        event.listen(session, "after_commit", self._provider.wake, once=True)
        return envelope


class Outbox(DependencyProvider):
    def __init__(self, record_model, batch_size=200, poll_interval=1.0):
        self.record_model = record_model
        self.batch_size = batch_size
        self.poll_interval = poll_interval

    def setup(self):
        config = self.container.config
        self.service_name = self.container.service_name
        # How long the relay sleeps between polls when no commit wakes it, and the start of
        # its backoff after a failure (config or environment OUTBOX_POLL_SECONDS).
        poll = config.get("OUTBOX_POLL_SECONDS") or os.environ.get("OUTBOX_POLL_SECONDS")
        if poll not in (None, ""):
            self.poll_interval = float(poll)
        self.exchange = get_event_exchange(self.service_name, config)
        self.publisher = Publisher(amqp_uri(config), use_confirms=True, declare=[self.exchange])
        url = database_url(self.service_name, config.get("DATABASE_URL"))
        pool = {"pool_size": 2, "max_overflow": 0} if url.startswith("postgresql") else {}
        self.engine = make_engine(url, **pool)
        self.Session = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._wakeups = LightQueue()
        self._running = False

    def start(self):
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._relay_forever)

    def stop(self):
        self._running = False
        self.wake()
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.wait()
        self.engine.dispose()

    def kill(self):
        self._running = False
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        return OutboxWriter(self)

    def wake(self, *_):
        if self._wakeups.qsize() == 0:
            self._wakeups.put_nowait(True)

    def _relay_forever(self):
        backoff = self.poll_interval
        while self._running:
            try:
                while self._running and self.publish_pending() == self.batch_size:
                    pass
                backoff = self.poll_interval
            except Exception:  # broker or database away: keep the rows, try again later
                log.warning("outbox relay of %s failed; retrying", self.service_name, exc_info=True)
                backoff = min(backoff * 2, 30)
                eventlet.sleep(backoff)
                continue
            try:
                self._wakeups.get(timeout=self.poll_interval)
            except Empty:
                pass

    def publish_pending(self):
        """Publish one batch of unpublished events in recording order; returns how many."""
        model = self.record_model
        with self.Session() as session:
            query = (
                select(model.seq, model.event_id, model.event_type, model.envelope)
                .where(model.published_at.is_(None))
                .order_by(model.seq)
                .limit(self.batch_size)
            )
            postgres = is_postgres(session.get_bind())
            if postgres:
                # Several instances of a service may relay at once; each takes other rows.
                query = query.with_for_update(skip_locked=True)
            pending = session.execute(query).all()
            if not postgres:
                # End SQLite's read snapshot before yielding to the network, or the later
                # write could find the snapshot stale and fail.
                session.rollback()
            published = []
            try:
                for seq, event_id, event_type, envelope in pending:
                    self.publisher.publish(
                        json.loads(envelope),
                        exchange=self.exchange,
                        routing_key=event_type,
                        message_id=event_id,
                        type=event_type,
                    )
                    published.append(seq)
            finally:
                # Whatever the broker confirmed is marked, even if a later publish failed.
                if published:
                    session.execute(
                        update(model).where(model.seq.in_(published)).values(published_at=utcnow())
                    )
                session.commit()
            return len(published)
