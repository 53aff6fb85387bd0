"""Delegations: who each member acts for (config fixes some; others set their own)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.config.types import Config
from bot.domain.lengths import MAX_DELEGATION
from bot.services import members
from bot.store.models import Member


class DelegationError(Exception):
    """A delegation that cannot be set; the message is meant for the user."""


def clean_name(name: str) -> str:
    """A delegation name as typed, tidied; refuses empty or over-long names."""
    name = " ".join(name.split())
    if not name:
        raise DelegationError("Tell me the delegation, e.g. `/wg delegation Austria`.")
    if len(name) > MAX_DELEGATION:
        raise DelegationError(f"That name is {len(name)} characters; the limit is {MAX_DELEGATION}.")
    return name


def of(session: Session, *, config: Config, user_id: str) -> str | None:
    """The delegation a member acts for: config's, else their own, else None."""
    fixed = config.fixed_delegation(user_id)
    if fixed is not None:
        return fixed
    found = members.member(session, user_id)
    return found.delegation if found is not None else None


_DELEGATIONS = select(Member.id, Member.delegation).where(
    Member.id.in_(bindparam("ids", expanding=True)))


def of_many(session: Session, *, config: Config, user_ids: Iterable[str]) -> dict[str, str | None]:
    """Delegations of several members at once (one query, for those this unit has not read)."""
    ids = sorted(set(user_ids))
    found: dict[str, str | None] = {uid: None for uid in ids}
    read = members.already_read(session)
    for uid in read.keys() & found.keys():
        row = read[uid]
        found[uid] = row.delegation if row is not None else None
    wanted = [uid for uid in ids if uid not in read]
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for uid, name in session.execute(_DELEGATIONS, {"ids": chunk}):
            found[uid] = name
    for uid in ids:
        fixed = config.fixed_delegation(uid)
        if fixed is not None:
            found[uid] = fixed
    return found


def all_members(session: Session, *, config: Config) -> dict[str, str | None]:
    """Every member's delegation (members are few: hundreds, not commitments' thousands)."""
    found: dict[str, str | None] = dict(session.execute(select(Member.id, Member.delegation)).all())
    for d in config.delegations:
        for uid in d.members:
            found[uid] = d.name
    return found


def set_own(session: Session, *, config: Config, user_id: str, name: str | None,
            now: datetime) -> str | None:
    """Set (or clear, with None) a member's own delegation; refused when config fixes it."""
    fixed = config.fixed_delegation(user_id)
    if fixed is not None:
        raise DelegationError(f"The admins set your delegation to *{fixed}* in "
                              f"config/settings.yaml; ask them to change it.")
    member = members.member(session, user_id)
    if member is None:
        member = Member(id=user_id, name=user_id, tz=None, refreshed_at=now)
        members.added(session, member)
    member.delegation = clean_name(name) if name is not None else None
    session.flush()
    return member.delegation
