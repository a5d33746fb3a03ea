"""Campaigns' own tables. No other service reads them; they ask over RPC or listen to events."""
from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from demeu_common.inbox import ProcessedEventMixin
from demeu_common.outbox import OutboxRecordMixin


class Base(DeclarativeBase):
    pass


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    summary: Mapped[str] = mapped_column(String(500), nullable=False)
    story: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    region: Mapped[str] = mapped_column(String(8), nullable=False)
    funding_model: Mapped[str] = mapped_column(String(20), nullable=False)
    goal_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="KZT")
    duration_days: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    starts_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    # Totals derived from contributions, kept on the row so reads never aggregate.
    raised_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    matched_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    backers_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    program_id: Mapped[str | None] = mapped_column(String(36))
    seat_cost_amount: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)

    rewards: Mapped[list["Reward"]] = relationship(
        back_populates="campaign", order_by="Reward.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_campaigns_status_created", "status", "created_at", "id"),
        Index("ix_campaigns_live_ends", "status", "ends_at"),
    )


class Reward(Base):
    __tablename__ = "rewards"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str | None] = mapped_column(String(1000))
    min_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    quantity: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    taken: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    campaign: Mapped[Campaign] = relationship(back_populates="rewards")


class RewardReservation(Base):
    """A unit of a reward held for a donation between the reservation and the charge's
    outcome; released when the charge fails or the hold expires."""

    __tablename__ = "reward_reservations"

    donation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reward_id: Mapped[str] = mapped_column(ForeignKey("rewards.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # held|confirmed|released
    expires_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_reservations_status_expires", "status", "expires_at"),)


class Contribution(Base):
    """What campaigns knows of a donation, from payments' events: enough to keep totals."""

    __tablename__ = "contributions"

    donation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), nullable=False, index=True)
    # A per-campaign pseudonym of the donor, so distinct backers are counted without
    # campaigns learning who gave anonymously.
    backer_ref: Mapped[str] = mapped_column(String(64), nullable=False)
    captured_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    matched_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class Match(Base):
    """Matching money one pool put on one donation, from payments' ``match.applied`` and
    ``match.released``. Both amounts only grow, so the part that still counts,
    applied less released, is the same whatever order the two events arrive in."""

    __tablename__ = "matches"

    donation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    pool_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), nullable=False, index=True)
    applied_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    released_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class ModerationEntry(Base):
    __tablename__ = "moderation_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), nullable=False, index=True)
    actor_id: Mapped[str] = mapped_column(String(128), nullable=False)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    from_status: Mapped[str] = mapped_column(String(20), nullable=False)
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(1000))
    at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)


class OutboxRecord(OutboxRecordMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass
