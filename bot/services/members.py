"""Members: who the bot has seen, their display name and timezone (cached from Slack, refreshed daily)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from bot.ports import Profile
from bot.store.models import Member

REFRESH_AFTER = timedelta(hours=24)
_READ = "wgbot_members"  # session.info: the members read in this unit of work, by id


def member(session: Session, user_id: str) -> Member | None:
    """The member's row (None when unknown), read once per unit of work.

    A turn asks about the same member several times (are they stale, their timezone, their
    delegation): the row read first answers them all, with what this unit wrote to it since.
    The session's identity map alone would not do: it lets go of rows nothing refers to.
    Members are created only here and in `delegations.set_own`, which keep this up to date.
    """
    read: dict[str, Member | None] = session.info.setdefault(_READ, {})
    if user_id not in read:
        read[user_id] = session.scalar(_MEMBER, {"user_id": user_id})
    return read[user_id]


_MEMBER = select(Member).where(Member.id == bindparam("user_id"))


def already_read(session: Session) -> dict[str, Member | None]:
    """The members this unit of work has read (or added) so far, by id: read only."""
    return session.info.get(_READ, {})


def added(session: Session, new: Member) -> None:
    """Keep a member just added to the session as the one this unit of work reads."""
    session.add(new)
    session.info.setdefault(_READ, {})[new.id] = new


def needs_refresh(session: Session, *, user_id: str, now: datetime) -> bool:
    """True when the member is unknown or their cached profile is older than a day."""
    found = member(session, user_id)
    return found is None or found.refreshed_at < now - REFRESH_AFTER


def remember(session: Session, *, user_id: str, profile: Profile | None, now: datetime) -> Member:
    """Insert or refresh a member; without a profile an unknown member is stored under their id."""
    found = member(session, user_id)
    if found is None:
        found = Member(id=user_id, name=profile.name if profile else user_id,
                       tz=profile.tz if profile else None, refreshed_at=now)
        added(session, found)
    elif profile is not None:
        found.name, found.tz, found.refreshed_at = profile.name, profile.tz, now
    session.flush()
    return found


def _zone(tz: str | None, default: ZoneInfo) -> ZoneInfo:
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return default


_TIMEZONES = select(Member.id, Member.tz).where(Member.id.in_(bindparam("ids", expanding=True)))


def timezones(session: Session, user_ids: Iterable[str], default: ZoneInfo) -> dict[str, ZoneInfo]:
    """Each member's own timezone, in one query (none for members this unit of work has read
    already); the default for unknown members or zones."""
    read = already_read(session)
    ids = set(user_ids)
    out = {uid: default for uid in ids}
    wanted = [uid for uid in ids if uid not in read]
    for uid in ids.difference(wanted):
        found = read[uid]
        out[uid] = _zone(found.tz if found is not None else None, default)
    if wanted:
        for uid, tz in session.execute(_TIMEZONES, {"ids": wanted}):
            out[uid] = _zone(tz, default)
    return out


def timezone_of(session: Session, *, user_id: str, default: ZoneInfo) -> ZoneInfo:
    """The member's own timezone, or the default when unknown or invalid."""
    found = member(session, user_id)
    return _zone(found.tz if found is not None else None, default)


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
    found = member(session, user_id)
    return found.name if found else user_id
