"""`wgbot reminders preview --at`: what would be sent between the last sweep and a moment. Sends nothing.

By default it shows the timeline of a bot that keeps running: every notification as it will read
at its own moment. With `--restart` it shows what one sweep at that moment would send after the
bot was down since the last sweep (due-together notifications coalesced to the newest).
"""
from __future__ import annotations

from datetime import datetime, timedelta, UTC

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.config.types import Config
from bot.domain.dates import format_moment
from bot.moments import read_moment
from bot.scheduling.sweep import compose
from bot.services.relevance import skip_reason
from bot.services import outbox
from bot.store.db import make_session_factory
from bot.store.models import Delivery

# The timeline plans in steps no longer than this, so each working-day nudge is planned on its day.
STEP = timedelta(hours=12)


def parse_moment(text: str, config: Config) -> datetime:
    """An ISO moment; without an offset it is read in the config's timezone."""
    moment = read_moment(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=config.timezone)
    return moment.astimezone(UTC)


def _who(d: Delivery) -> str:
    return f"@{d.recipient}" if d.recipient[:1] in ("U", "W") else f"#{d.recipient}"


def _line(session: Session, d: Delivery, *, config: Config, now: datetime) -> str:
    composed = compose(session, d, config=config, now=now)
    who = _who(d)
    when = format_moment(now, config.timezone)
    what = f"SKIP: {composed.skip}" if composed.reply is None else composed.reply.text[:90]
    return f"  {when}  {d.kind:<10} {who:<14} {what}"


def _due(session: Session, at: datetime) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.status == "pending",
                                                       Delivery.send_after <= at)
                                .order_by(Delivery.send_after, Delivery.id)))


def timeline(session: Session, *, config: Config, at: datetime, start: datetime) -> list[str]:
    """Each notification due up to `at`, worded as it will be at its own moment (bot running)."""
    since = outbox.swept_until(session) or start
    t = since
    while t < at:  # sweep by sweep, as a running bot would plan them
        t = min(t + STEP, at)
        outbox.plan(session, config=config, now=t, first_start=start)
    tz = config.timezone
    lines = [f"Notifications due from {format_moment(since, tz)} to {format_moment(at, tz)}, "
             f"each as it will read when sent (nothing is sent):"]
    lines += [_line(session, d, config=config, now=max(d.send_after, since))
              for d in _due(session, at)]
    return lines


def restart(session: Session, *, config: Config, at: datetime, start: datetime) -> list[str]:
    """What one sweep at `at` would send after downtime since the last sweep, after coalescing."""
    since = outbox.swept_until(session) or start
    outbox.plan(session, config=config, now=at, first_start=start)
    skipped = dict(outbox.coalesce(
        session, now=at, tz=config.timezone,
        goes_out=lambda d: skip_reason(session, d, config=config, now=at) is None))
    tz = config.timezone
    lines = [f"A restart at {format_moment(at, tz)}, down since {format_moment(since, tz)}, "
             f"would send (nothing is sent):"]
    lines += [_line(session, d, config=config, now=at) for d in _due(session, at)]
    if skipped:
        rows = session.scalars(select(Delivery).where(Delivery.id.in_(skipped))
                               .order_by(Delivery.send_after, Delivery.id))
        lines.append("and skip, as superseded:")
        lines += [f"  {format_moment(d.due_at, tz)}  {d.kind:<10} {_who(d):<14} "
                  f"{skipped[d.id]}" for d in rows]
    return lines


def preview(engine: Engine, *, config: Config, at_text: str, clock: Clock,
            as_restart: bool = False) -> list[str]:
    """Lines describing each notification due by `at`, and to whom; the transaction is rolled back."""
    at = parse_moment(at_text, config)
    session = make_session_factory(engine)()
    try:
        show = restart if as_restart else timeline
        lines = show(session, config=config, at=at, start=clock.now())
        if len(lines) == 1:
            lines.append("  nothing")
        return lines
    finally:
        session.rollback()
        session.close()
