"""The talent service's own tables. No other service reads them.

Private data (IIN, birth date, guardian consent) lives only in ``*_encrypted`` columns,
Fernet tokens made by :mod:`talent.dependencies`; no clear copy is stored anywhere.
"""
from sqlalchemy import (
    BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from demeu_common.inbox import ProcessedEventMixin
from demeu_common.outbox import OutboxRecordMixin


class Base(DeclarativeBase):
    pass


class Talent(Base):
    __tablename__ = "talents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(100), nullable=False)
    region: Mapped[str] = mapped_column(String(8), nullable=False, index=True)
    fields: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list of categories
    bio: Mapped[str | None] = mapped_column(Text)
    birth_date_encrypted: Mapped[str] = mapped_column(Text, nullable=False)
    iin_encrypted: Mapped[str | None] = mapped_column(Text)
    guardian_consent_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)

    def __repr__(self):  # never the encrypted columns, not even in a log line
        return f"<Talent {self.id}>"


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    mentor_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    field: Mapped[str] = mapped_column(String(32), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    seats: Mapped[int] = mapped_column(Integer, nullable=False)
    regional_quota: Mapped[int | None] = mapped_column(Integer)
    application_deadline: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    starts_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    offer_hours: Mapped[int] = mapped_column(Integer, nullable=False, default=72)
    status: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    # Kept on the row and changed only by conditional UPDATEs: never above ``seats``.
    enrolled_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_programs_created", "created_at", "id"),)


class Application(Base):
    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"), nullable=False)
    talent_id: Mapped[str] = mapped_column(ForeignKey("talents.id"), nullable=False, index=True)
    talent_user_id: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    # The talent's region when they applied, for the first round's quota and the statistics.
    region: Mapped[str] = mapped_column(String(8), nullable=False, index=True)
    motivation: Mapped[str] = mapped_column(Text, nullable=False)
    portfolio_urls: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list
    # submitted | offered | waitlisted | enrolled | declined | expired | not_selected | completed
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    rank: Mapped[int | None] = mapped_column(Integer)
    waitlist_position: Mapped[int | None] = mapped_column(Integer)
    offered_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    offer_expires_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (
        UniqueConstraint("program_id", "talent_id", name="uq_applications_program_talent"),
        Index("ix_applications_program_created", "program_id", "created_at", "id"),
        Index("ix_applications_status_expires", "status", "offer_expires_at"),
    )


class Score(Base):
    """One score per mentor per application, replaced until selection."""

    __tablename__ = "scores"

    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    mentor_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str | None] = mapped_column(String(2000))
    scored_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)


class Certificate(Base):
    __tablename__ = "certificates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), nullable=False, unique=True)
    talent_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    content: Mapped[str] = mapped_column(Text, nullable=False)  # the signed JSON, as signed
    signature: Mapped[str] = mapped_column(String(200), nullable=False)
    issued_at: Mapped[object] = mapped_column(DateTime(timezone=True), nullable=False)


class ScholarshipCampaign(Base):
    """Talent's projection of an education campaign that funds a program's seats, fed by
    campaigns' and payments' events (never by reading campaign tables)."""

    __tablename__ = "scholarship_campaigns"

    campaign_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    program_id: Mapped[str | None] = mapped_column(String(36), index=True)
    seat_cost_amount: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str | None] = mapped_column(String(20))
    snapshot_raised_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    donated_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class OutboxRecord(OutboxRecordMixin, Base):
    pass


class ProcessedEvent(ProcessedEventMixin, Base):
    pass
