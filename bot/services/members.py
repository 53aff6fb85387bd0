"""Members: who the bot has seen, their display name and timezone (cached from Slack, refreshed daily)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.ports import Profile
from bot.store.models import Member

REFRESH_AFTER = timedelta(hours=24)


def needs_refresh(session: Session, *, user_id: str, now: datetime) -> bool:
    """True when the member is unknown or their cached profile is older than a day."""
    member = session.get(Member, user_id)
    return member is None or member.refreshed_at < now - REFRESH_AFTER


def remember(session: Session, *, user_id: str, profile: Profile | None, now: datetime) -> Member:
    """Insert or refresh a member; without a profile an unknown member is stored under their id."""
    member = session.get(Member, user_id)
    if member is None:
        member = Member(id=user_id, name=profile.name if profile else user_id,
                        tz=profile.tz if profile else None, refreshed_at=now)
        session.add(member)
    elif profile is not None:
        member.name, member.tz, member.refreshed_at = profile.name, profile.tz, now
    session.flush()
    return member


def timezones(session: Session, user_ids: Iterable[str], default: ZoneInfo) -> dict[str, ZoneInfo]:
    """Each member's own timezone, in one query; the default for unknown members or zones."""
    ids = set(user_ids)
    out = {uid: default for uid in ids}
    if not ids:
        return out
    for uid, tz in session.execute(select(Member.id, Member.tz).where(Member.id.in_(ids))):
        if tz:
            try:
                out[uid] = ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                pass
    return out


def timezone_of(session: Session, *, user_id: str, default: ZoneInfo) -> ZoneInfo:
    """The member's own timezone, or the default when unknown or invalid."""
    return timezones(session, [user_id], default)[user_id]


def named(session: Session, *, name: str) -> list[Member]:
    """Members whose display name is this name (any case, spaces and dots ignored), at most five."""
    def key(text: str) -> str:
        return "".join(ch for ch in text.casefold() if ch.isalnum())

    wanted = key(name)
    if not wanted:
        return []
    rows = session.scalars(select(Member).where(func.lower(Member.name).contains(name.casefold()[:3]))
                           .limit(500))
    exact = [m for m in rows if key(m.name) == wanted or key(m.name.split(" ")[0]) == wanted]
    return exact[:5]


def name_of(session: Session, *, user_id: str) -> str:
    """Display name, or the id when the member is unknown."""
    member = session.get(Member, user_id)
    return member.name if member else user_id
