"""Assignment notices: commitments recorded for someone else reach the owner through the outbox.

Every assignment made in the same batch window (``limits.assignment_batch``) lands on one
delivery row (its unique key is the moment the window closes), sent when the window closes or,
if that falls in the owner's quiet hours, when they end. The message is drawn at sending time
from the commitments themselves, so a withdrawn assignment is never announced.
"""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config.types import Config
from bot.domain import planning
from bot.domain.planning import Planned
from bot.services import outbox
from bot.store.models import Commitment, Delivery

KIND = "assignment"
SUBJECT = "assigned"
LOOK_BACK = timedelta(days=1)  # quiet hours hold a notice for less than a day


def notice_moment(now: datetime, *, config: Config, tz: ZoneInfo) -> datetime:
    """When the notice of an assignment made now goes out: its window's end, after quiet hours."""
    step = config.limits.assignment_batch.total_seconds()
    end = datetime.fromtimestamp(math.ceil(now.timestamp() / step) * step, tz=UTC)
    return planning.quiet_shift(end, tz, config.quiet_hours)


def announce(session: Session, *, owner_id: str, now: datetime, config: Config, tz: ZoneInfo) -> None:
    """Make sure a notice to the owner covers an assignment made now (one row per window)."""
    moment = notice_moment(now, config=config, tz=tz)
    outbox.enqueue(session, [Planned(KIND, owner_id, SUBJECT, moment, moment)], now=now)


def announced(session: Session, *, recipient: str, moment: datetime) -> list[Commitment]:
    """The open commitments others recorded for the recipient since the previous notice."""
    previous = session.scalar(select(func.max(Delivery.due_at)).where(
        Delivery.kind == KIND, Delivery.recipient == recipient, Delivery.due_at < moment))
    since = max(previous, moment - LOOK_BACK) if previous else moment - LOOK_BACK
    return list(session.scalars(
        select(Commitment).where(Commitment.owner_id == recipient, Commitment.status == "open",
                                 Commitment.creator_id != recipient, Commitment.created_at > since,
                                 Commitment.created_at <= moment)
        .order_by(Commitment.id)))


def skip_reason(session: Session, *, recipient: str, moment: datetime) -> str | None:
    """Why a notice has nothing left to say, or None."""
    if announced(session, recipient=recipient, moment=moment):
        return None
    return "every assignment it would announce was completed, cancelled or moved to another owner"
