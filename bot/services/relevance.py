"""Whether a planned notification is still worth sending: the rule the sweep and re-planning share."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.config.types import Config
from bot.domain import planning
from bot.domain.planning import Planned
from bot.domain.views import CommitmentView
from bot.services import commitments, outbox, owner_notices
from bot.store.models import Delivery


def commitment_of(session: Session, subject: str) -> tuple[CommitmentView | None, datetime | None]:
    """The commitment a deadline or overdue subject names, and the deadline it was planned for."""
    parsed = planning.parse_commitment_subject(subject)
    if parsed is None:
        return None, None
    return commitments.get(session, commitment_id=parsed[0]), parsed[1]


# complexity: one rule per notification kind, read top to bottom
def skip_reason(session: Session, d: Delivery | Planned, *, config: Config, now: datetime  # noqa: C901
                ) -> str | None:
    """Why a delivery no longer makes sense at `now`, or None when it should go out."""
    kind, recipient, subject = d.kind, d.recipient, d.subject
    session_stamp = planning.stamp(config.session.starts_at)
    if kind == "countdown":
        if subject.partition("@")[2] != session_stamp:
            return outbox.SESSION_MOVED
        if now >= config.session.starts_at:
            return "the session has already started"
        if recipient != config.channels.working_group:
            return "the working-group channel changed"
        return None
    if kind in ("deadline", "overdue"):
        c, planned_due = commitment_of(session, subject)
        if c is None:
            return "the commitment no longer exists"
        if c.status != "open":
            return f"commitment #{c.id} is {c.status}"
        if c.due_at != planned_due:
            return f"commitment #{c.id} was moved"
        if recipient not in c.owner_ids:
            return f"commitment #{c.id} has a new owner"
        if kind == "deadline" and now >= c.due_at:
            return "the deadline passed before the reminder could go out"
        return None
    if kind == "digest" and subject == planning.SUMMARY_SUBJECT:
        return None if recipient == config.channels.coordinators else \
            "the coordinators' channel changed"
    if kind == "digest":
        if not config.is_coordinator(recipient):
            return f"{recipient} is no longer a coordinator"
        if subject.startswith("session@"):
            if subject.partition("@")[2] != session_stamp:
                return outbox.SESSION_MOVED
            if now >= config.session.starts_at:
                return "the session has already started"
        return None
    if kind == owner_notices.KIND:
        return owner_notices.skip_reason(session, recipient=recipient,
                                         moment=d.moment if isinstance(d, Planned) else d.due_at)
    if kind == "admin_alert":
        if not subject.startswith("failures:"):
            return "a config notice is only sent when the config changes"
        return None
    return f"unknown kind {kind}"


_PENDING = select(Delivery).where(Delivery.status == "pending").limit(1000)
_PENDING_OF = (select(Delivery)  # one commitment's: their subjects start c<id>@
               .where(Delivery.status == "pending", Delivery.subject.like(bindparam("subjects")))
               .limit(1000))


def revalidate_pending(session: Session, *, config: Config, now: datetime,
                       commitment_id: int | None = None) -> int:
    """Mark pending deliveries (of one commitment, or all) that no longer make sense as skipped.

    Call it in the unit of work that made the change, so the change and its re-planning are kept
    together or not at all. Returns how many were skipped.
    """
    rows = (session.scalars(_PENDING) if commitment_id is None else
            session.scalars(_PENDING_OF, {"subjects": f"c{commitment_id}@%"}))
    skipped = 0
    for d in rows.all():
        reason = skip_reason(session, d, config=config, now=now)
        if reason is not None:
            d.status, d.reason = "skipped", reason
            skipped += 1
    return skipped
