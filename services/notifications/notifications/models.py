"""Notifications' own tables. No other service reads them."""
from sqlalchemy import (
    BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from demeu_common.inbox import ProcessedEventMixin

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SequenceNumber = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class Contact(Base):
    """What the gateway learnt from a user's token: where to write and in which language."""

    __tablename__ = "contacts"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(2), nullable=False)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)


class Preference(Base):
    """A user's channels; no row means both on."""

    __tablename__ = "preferences"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    inbox: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)


class Notification(Base):
    """An inbox item. Stored as parameters, rendered on read in the reader's locale."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(String(128), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    source_event_id: Mapped[str] = mapped_column(String(64), nullable=False)
    params: Mapped[str] = mapped_column(Text, nullable=False)  # JSON
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    read_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # The second guard of "one event → one notification per recipient".
        UniqueConstraint("recipient_id", "source_event_id", "type", name="uq_notifications_source"),
        Index("ix_notifications_inbox", "recipient_id", "created_at", "id"),
    )


class PendingEmail(Base):
    """The email outbox: written with the notification, sent by the relay, retried."""

    __tablename__ = "emails"

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    recipient_id: Mapped[str] = mapped_column(String(128), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    source_event_id: Mapped[str] = mapped_column(String(64), nullable=False)
    to_address: Mapped[str] = mapped_column(String(320), nullable=False)
    subject: Mapped[str] = mapped_column(String(500), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    sent_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("recipient_id", "source_event_id", "type", name="uq_emails_source"),
        Index("ix_emails_due", "status", "next_attempt_at"),
    )


class Webhook(Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    secret: Mapped[str] = mapped_column(String(100), nullable=False)
    event_types: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # active|disabled
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failing_since: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    deleted_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """The persistent delivery queue: one row per (webhook, event)."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id"), nullable=False)
    event_id: Mapped[str] = mapped_column(String(64), nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)  # the raw CloudEvent JSON
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    delivered_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_deliveries_event"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_webhook", "webhook_id", "id"),
    )


class ProcessedEvent(ProcessedEventMixin, Base):
    pass


class EventLogEntry(Base):
    """Every event the platform published, once, in the order it was recorded here: what
    ``replay_events`` serves to systems that were offline (contract §8). Written by
    ``on_event`` in the same transaction as the inbox claim, so exactly once per event id.
    How ``seq`` is kept gap-safe for readers: see ``notifications.eventlog``."""

    __tablename__ = "event_log"

    seq: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    source: Mapped[str] = mapped_column(String(200), nullable=False)
    envelope: Mapped[str] = mapped_column(Text, nullable=False)  # the CloudEvent JSON as received
    recorded_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (
        UniqueConstraint("event_id", name="uq_event_log_event_id"),
        # Replays filtered by type walk this index in log order.
        Index("ix_event_log_type_seq", "event_type", "seq"),
    )
