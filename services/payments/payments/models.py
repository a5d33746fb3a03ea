"""Payments' own tables. Postings and chain entries are append-only: never updated or deleted."""
from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from demeu_common.inbox import ProcessedEventMixin
from demeu_common.outbox import OutboxRecordMixin, SequenceNumber


class Base(DeclarativeBase):
    pass


class Donation(Base):
    __tablename__ = "donations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36), nullable=False)
    donor_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    reward_id: Mapped[str | None] = mapped_column(String(36))
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    message: Mapped[str | None] = mapped_column(String(280))
    # pending → succeeded | failed; succeeded → partially_refunded → refunded
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    captured_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    charge_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    failure_code: Mapped[str | None] = mapped_column(String(40))
    # What payments learned of the campaign when the gift was made, for events and receipts.
    campaign_owner_id: Mapped[str] = mapped_column(String(128), nullable=False)
    campaign_title: Mapped[str] = mapped_column(String(120), nullable=False)
    campaign_category: Mapped[str] = mapped_column(String(32), nullable=False)
    campaign_region: Mapped[str] = mapped_column(String(8), nullable=False)
    # The campaign was live when the gift was made: only such gifts are matched.
    campaign_live: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    recurring_plan_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_donations_campaign_status", "campaign_id", "status", "created_at"),)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False)  # in_progress | completed
    locked_until: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False, index=True)


class JournalEntry(Base):
    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    campaign_id: Mapped[str | None] = mapped_column(String(36), index=True)
    donation_id: Mapped[str | None] = mapped_column(String(36), index=True)
    # Makes each business operation post at most once, whatever retries happen.
    reference: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)


class Posting(Base):
    __tablename__ = "postings"

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), nullable=False, index=True)
    account: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)


class ChainHead(Base):
    """The latest link of each campaign's public chain; locking it serialises appends."""

    __tablename__ = "chain_heads"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class ChainEntry(Base):
    __tablename__ = "chain_entries"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    donation_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[str] = mapped_column(String(40), nullable=False)  # kept as hashed, to the letter
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    journal_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), nullable=False)


class SandboxOperation(Base):
    """The sandbox acquirer's own books (what a real provider keeps on its side)."""

    __tablename__ = "sandbox_operations"

    operation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reference: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # charge | refund
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    charge_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)


class FailedCampaign(Base):
    """All-or-nothing campaigns whose failure payments has learned of: a gift captured after
    that (a late 3-D Secure confirmation, a charge racing the close) is refunded at once."""

    __tablename__ = "failed_campaigns"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    failed_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)


class ProviderWebhook(Base):
    """Provider webhook ids already handled: a replayed webhook changes nothing."""

    __tablename__ = "provider_webhooks"

    event_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    received_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)


class Refund(Base):
    """One refund of a donation, keyed by its reference (``refund:<id>`` from the admin's
    Idempotency-Key, or ``auto-refund:<donation id>``). Written ``pending`` when its amount is
    reserved on the donation, ``succeeded`` once the provider refunded it and the ledger has
    it; a crash in between resumes under the same reference, so nothing is refunded twice."""

    __tablename__ = "refunds"

    reference: Mapped[str] = mapped_column(String(80), primary_key=True)
    donation_id: Mapped[str] = mapped_column(ForeignKey("donations.id"), nullable=False, index=True)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # pending | succeeded
    provider_refund_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)


class OutboxRecord(OutboxRecordMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass


class MatchingPool(Base):
    """A patron's matching budget (contract §5). ``remaining_amount`` is what may still be
    matched: budget − net matched − returned to the patron; it never goes below zero because
    every change happens under this row's lock (SELECT … FOR UPDATE)."""

    __tablename__ = "matching_pools"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    patron_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    budget_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ratio: Mapped[int] = mapped_column(Integer, nullable=False)
    cap_per_donation: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cap_per_campaign: Mapped[int] = mapped_column(BigInteger, nullable=False)
    categories: Mapped[str] = mapped_column(Text, nullable=False, default="[]")  # JSON list
    regions: Mapped[str] = mapped_column(Text, nullable=False, default="[]")  # JSON list
    expires_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    remaining_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    matched_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)  # net of releases
    returned_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # pending (3-D Secure under way) → active ⇄ exhausted → expired
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    charge_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_matching_pools_status_created", "status", "created_at", "id"),)


class Match(Base):
    """What one pool matched of one donation, and how much of it went back to the pool."""

    __tablename__ = "matches"

    donation_id: Mapped[str] = mapped_column(ForeignKey("donations.id"), primary_key=True)
    pool_id: Mapped[str] = mapped_column(ForeignKey("matching_pools.id"), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(36), nullable=False)
    campaign_region: Mapped[str] = mapped_column(String(8), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    released_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_matches_pool_campaign", "pool_id", "campaign_id"),)


class PoolReturn(Base):
    """Unused budget given back to the patron at expiry, keyed ``pool-expiry:<pool id>`` (and
    ``…:<n>`` for money released into the pool after it expired). Written ``pending`` when
    the amount is taken off the pool, ``succeeded`` once the provider refunded it."""

    __tablename__ = "pool_returns"

    reference: Mapped[str] = mapped_column(String(80), primary_key=True)
    pool_id: Mapped[str] = mapped_column(ForeignKey("matching_pools.id"), nullable=False, index=True)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # pending | succeeded
    provider_refund_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)


class RecurringPlan(Base):
    """A monthly gift. Period 0 is charged when the plan is made; period n falls due n months
    after ``anchor_at``. Each attempt is one donation whose id derives from
    ``recurring:<plan>:<period>:<attempt>``, and is claimed by a conditional UPDATE on
    (period, attempt), so several instances sweeping at once charge each period once."""

    __tablename__ = "recurring_plans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    donor_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    campaign_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    payment_token: Mapped[str] = mapped_column(String(200), nullable=False)
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # active | cancelled
    period: Mapped[int] = mapped_column(Integer, nullable=False)  # the next period to charge
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # failures this period
    anchor_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    next_charge_at: Mapped[object | None] = mapped_column(DateTime(timezone=True), index=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(128))
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
