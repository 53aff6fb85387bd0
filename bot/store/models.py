"""SQLAlchemy 2.0 typed models: members, commitments, their audit trail, the deliveries outbox."""
from __future__ import annotations

from datetime import datetime, UTC
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.domain.lengths import MAX_DELEGATION, MAX_TEXT

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC on every backend."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name every constraint."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Member(Base):
    """A Slack user the bot has seen, with the timezone Slack reports for them."""

    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tz: Mapped[str | None] = mapped_column(String(64))
    refreshed_at: Mapped[datetime]
    # The delegation the member acts for, as they set it (config may fix it instead).
    delegation: Mapped[str | None] = mapped_column(String(MAX_DELEGATION))


class Commitment(Base):
    """Something a member has committed to do by a deadline, optionally for a recommendation."""

    __tablename__ = "commitments"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'done', 'cancelled')", name="status"),
        Index("ix_commitments_owner_status_due", "owner_id", "status", "due_at"),
        Index("ix_commitments_status_due_owner_rec", "status", "due_at", "owner_id", "rec_id"),
        Index("ix_commitments_rec_status", "rec_id", "status"),
        Index("ix_commitments_updated", "updated_at"),
        Index("ix_commitments_status_nudge", "status", "next_nudge_at"),
        # Covering indexes for the digest and brief aggregates (GROUP BY recommendation, burn-up).
        Index("ix_commitments_rec_status_due", "rec_id", "status", "due_at"),
        Index("ix_commitments_status_completed", "status", "completed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(String(MAX_TEXT))
    owner_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    creator_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    rec_id: Mapped[str | None] = mapped_column(String(8))
    due_at: Mapped[datetime]
    due_words: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    # When the next overdue nudge falls due (None: no more nudges), and how many went out.
    next_nudge_at: Mapped[datetime | None]
    nudges: Mapped[int] = mapped_column(Integer, default=0)

    # Loaded only where a name is shown (exports); lists and sweeps never join members.
    owner: Mapped[Member] = relationship(foreign_keys=[owner_id], lazy="raise_on_sql")
    # Every owner (the first is owner_id) and every linked recommendation (the first is rec_id).
    owners: Mapped[list[CommitmentOwner]] = relationship(
        order_by="CommitmentOwner.position", lazy="selectin", cascade="all, delete-orphan",
        passive_deletes=True)
    links: Mapped[list[CommitmentLink]] = relationship(
        order_by="CommitmentLink.position", lazy="selectin", cascade="all, delete-orphan",
        passive_deletes=True)

    @property
    def owner_ids(self) -> tuple[str, ...]:
        """Everyone who holds it, the lead owner first."""
        return tuple(o.member_id for o in self.owners) or (self.owner_id,)

    @property
    def rec_ids(self) -> tuple[str, ...]:
        """Every recommendation it serves, in the order they were linked."""
        return tuple(link.rec_id for link in self.links) or ((self.rec_id,) if self.rec_id else ())


class CommitmentOwner(Base):
    """One of the people who hold a commitment (a delegation's team may share one)."""

    __tablename__ = "commitment_owners"
    __table_args__ = (Index("ix_commitment_owners_member", "member_id", "commitment_id"),)

    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id", ondelete="CASCADE"),
                                               primary_key=True)
    member_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CommitmentLink(Base):
    """A recommendation a commitment serves (it may serve several)."""

    __tablename__ = "commitment_links"
    __table_args__ = (Index("ix_commitment_links_rec", "rec_id", "commitment_id"),)

    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id", ondelete="CASCADE"),
                                               primary_key=True)
    rec_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CommitmentTally(Base):
    """How many commitments fall in one bucket of a dimension, per status: kept by database
    triggers on commitments (migration 0006) in the transaction of every write, bulk ones too.

    Dimensions: 'rec' (rec_id, '' for none), 'owner' (owner_id), 'due' (UTC day of due_at) and
    'done' (UTC day of completed_at, when set); days are 'YYYY-MM-DD'. A bucket emptied by
    changes keeps its row with n = 0.
    """

    __tablename__ = "commitment_tallies"
    # SQLite: the rows in primary-key order, so one dimension's buckets are one range read.
    __table_args__: ClassVar[dict[str, Any]] = {"sqlite_with_rowid": False}

    dimension: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class AuditEntry(Base):
    """One change to a commitment: who, when, what, before and after."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_commitment_at", "commitment_id", "at"),
                      Index("ix_audit_entries_at_commitment", "at", "commitment_id"),
                      Index("ix_audit_entries_action_commitment", "action", "commitment_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id", ondelete="CASCADE"))
    actor_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(16))
    changes: Mapped[dict[str, Any]]


class Delivery(Base):
    """The outbox: one row per notification, created once (unique key), claimed, sent, recorded."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'claimed', 'sent', 'failed', 'skipped')", name="status"
        ),
        Index("ix_deliveries_status_due", "status", "due_at"),
        Index("ix_deliveries_kind_recipient", "kind", "recipient", "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime]
    send_after: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    reported_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class SchedulerLease(Base):
    """Which process may run the scheduler, until when (one scheduler at a time on SQLite)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]


class SweepMark(Base):
    """How far the reminder sweep has looked: notifications due up to this moment are planned."""

    __tablename__ = "sweep_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    swept_until: Mapped[datetime]


class ProcessedEvent(Base):
    """Events API callbacks already handled, so a retry never repeats a side effect."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime]
