"""Owner notices: what others did with a member's commitments reaches them through the outbox.

A commitment recorded for someone else, or moved, cancelled or reopened by someone other than its
owner, makes sure one notice row exists for the owner and the batch window it fell in
(``limits.notice_batch``): its unique key is the moment the window closes, moved past the owner's
quiet hours. So any number of changes in one window are one DM, never sent at night. The DM is
drawn at sending time from the audit trail, so an assignment withdrawn meanwhile is not announced.
"""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config.types import Config
from bot.domain import planning
from bot.domain.notices import Change
from bot.domain.planning import Planned
from bot.domain.views import CommitmentView
from bot.services import outbox
from bot.services.commitments import view_of
from bot.store.models import AuditEntry, Commitment, CommitmentOwner, Delivery

KIND = "owner_notice"
SUBJECT = "changes"
ACTIONS = ("created", "moved", "cancelled", "reopened", "reassigned")
LOOK_BACK = timedelta(days=1)  # quiet hours hold a notice for less than a day
# A change whose unit of work began before its window closed may commit a little after: the
# notice waits this long (at most the window itself) past the close so it is not left out.
GRACE = timedelta(seconds=10)


def notice_moment(now: datetime, *, config: Config, tz: ZoneInfo) -> datetime:
    """When the notice of a change made now goes out: its window's end, after quiet hours."""
    step = config.limits.notice_batch.total_seconds()
    end = datetime.fromtimestamp(math.ceil(now.timestamp() / step) * step, tz=UTC)
    return planning.quiet_shift(end, tz, config.quiet_hours)


def announce(session: Session, *, owner_id: str, now: datetime, config: Config, tz: ZoneInfo) -> None:
    """Make sure a notice to the owner covers a change made now (one row per window)."""
    moment = notice_moment(now, config=config, tz=tz)
    grace = min(GRACE, config.limits.notice_batch)
    outbox.enqueue(session, [Planned(KIND, owner_id, SUBJECT, moment, moment + grace)], now=now)


def changes(session: Session, *, recipient: str, moment: datetime) -> list[Change]:
    """What others did with the recipient's commitments since the previous notice, oldest first.

    A commitment recorded for them in this window and no longer open is left out altogether:
    they never heard of it, so they need not hear of its end either.
    """
    previous = session.scalar(select(func.max(Delivery.due_at)).where(
        Delivery.kind == KIND, Delivery.recipient == recipient, Delivery.due_at < moment))
    since = max(previous, moment - LOOK_BACK) if previous else moment - LOOK_BACK
    rows = session.execute(
        select(AuditEntry, Commitment).join(Commitment, Commitment.id == AuditEntry.commitment_id)
        .where(AuditEntry.at > since, AuditEntry.at <= moment, AuditEntry.action.in_(ACTIONS),
               AuditEntry.actor_id != recipient,
               Commitment.id.in_(select(CommitmentOwner.commitment_id)
                                 .where(CommitmentOwner.member_id == recipient)))
        .order_by(AuditEntry.at, AuditEntry.id)).all()
    def given_to_them(e: AuditEntry) -> bool:
        before, after = (e.changes.get("owners") or [[], []])[:2]
        return recipient in after and recipient not in before

    rows = [(e, c) for e, c in rows if e.action != "reassigned" or given_to_them(e)]
    withdrawn = {c.id for e, c in rows if e.action in ("created", "reassigned")
                 and c.status != "open"}
    out: list[Change] = []
    views: dict[int, CommitmentView] = {}  # one value per commitment, however many changes
    for entry, c in rows:
        if c.id in withdrawn:
            continue
        due = None
        if entry.action == "moved":
            try:
                due = datetime.fromisoformat(str((entry.changes.get("due") or [None, ""])[1]))
            except ValueError:
                due = None
        view = views.get(c.id) or views.setdefault(c.id, view_of(c))
        out.append(Change(entry.action, entry.actor_id, view, due))
    return out


def skip_reason(session: Session, *, recipient: str, moment: datetime) -> str | None:
    """Why a notice has nothing left to say, or None."""
    if changes(session, recipient=recipient, moment=moment):
        return None
    return "every commitment it would announce was withdrawn (completed or cancelled) meanwhile"
