"""`wgbot reminders preview --at`: what would be sent between the last sweep and a moment. Sends nothing."""
from __future__ import annotations

from datetime import datetime, UTC

from sqlalchemy import select

from bot.clock import Clock
from bot.config.types import Config
from bot.domain.dates import format_moment
from bot.scheduling.sweep import compose
from bot.services import outbox
from bot.settings import Settings
from bot.store.db import make_session_factory
from bot.store.models import Delivery


def parse_moment(text: str, config: Config) -> datetime:
    """An ISO moment; without an offset it is read in the config's timezone."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as e:
        raise ValueError(f"--at wants an ISO moment like 2027-02-25T09:00, not {text!r}") from e
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=config.timezone)
    return moment.astimezone(UTC)


def preview(settings: Settings, *, config: Config, at_text: str, clock: Clock) -> list[str]:
    """Lines describing each notification due by `at`, and to whom; the transaction is rolled back."""
    from bot.app import open_database

    at = parse_moment(at_text, config)
    engine = open_database(settings)
    session = make_session_factory(engine)()
    try:
        report = outbox.plan(session, config=config, now=at, first_start=clock.now())
        rows = session.scalars(select(Delivery).where(Delivery.status == "pending",
                                                      Delivery.send_after <= at)
                               .order_by(Delivery.send_after, Delivery.id)).all()
        tz = config.timezone
        window = (f"from {format_moment(report.window[0], tz)} to {format_moment(at, tz)}"
                  if report.window else f"up to {format_moment(at, tz)}")
        lines = [f"Notifications due {window} (nothing is sent):"]
        for d in rows:
            composed = compose(session, d, config=config, now=at)
            who = f"@{d.recipient}" if d.recipient[:1] in ("U", "W") else f"#{d.recipient}"
            when = format_moment(d.send_after, tz)
            if composed.reply is None:
                lines.append(f"  {when}  {d.kind:<10} {who:<14} SKIP: {composed.skip}")
            else:
                lines.append(f"  {when}  {d.kind:<10} {who:<14} {composed.reply.text[:90]}")
        if len(lines) == 1:
            lines.append("  nothing")
        return lines
    finally:
        session.rollback()
        session.close()
        engine.dispose()
