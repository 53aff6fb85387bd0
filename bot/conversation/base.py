"""What every conversation turn shares: who speaks, what comes out, the units of work."""
from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config.types import Config
from bot.domain.clauses import PersonRef
from bot.domain.dates import DateProblem, DueDate, parse_due
from bot.domain.reply import Attachment, Mrkdwn, Note, Reply, Section, md, mention, simple
from bot.domain.views import CommitmentView
from bot.ports import ConfigSource, Directory, Operations, Profile
from bot.replies import commitments as commitment_replies
from bot.services import events, limits, members, relevance
from bot.store.db import DatabaseBusy, unit_of_work


log = logging.getLogger("wgbot.conversation")


@dataclass(frozen=True)
class Caller:
    """Who is speaking."""

    user_id: str
    request_id: str | None = None  # Slack's trigger_id: a replay of a request carries the same one


@dataclass(frozen=True)
class DirectMessage:
    """A message to send to a user after the reply."""

    user_id: str
    reply: Reply


@dataclass(frozen=True)
class Outcome:
    """The reply to the caller plus what else must be sent once the reply is on its way."""

    reply: Reply
    messages: tuple[DirectMessage, ...] = ()
    uploads: tuple[tuple[str, Attachment], ...] = ()
    changed: tuple[int, ...] = field(default=())


class TurnBase:
    """What every turn shares: the config, the clock, the units of work it reads and
    writes in, who is asking and whom they name, the checks before a write."""

    def __init__(self, *, config: ConfigSource, sessions: sessionmaker[Session], clock: Clock,
                 directory: Directory, operations: Operations | None = None) -> None:
        self._config = config
        self._sessions = sessions
        self._clock = clock
        self._directory = directory
        self.operations = operations
        self._fixed_recs: tuple[object, dict[str, Reply]] = (None, {})

    @property
    def config(self) -> Config:
        """The config in force right now."""
        return self._config.current()

    # A turn reads in one unit and writes in one more. Members' cached profiles (name, timezone)
    # are checked in the reading unit; those a day old or unknown are looked up in the directory
    # (Slack) outside any unit, and remembered by the next unit that writes.
    def _stale(self, s: Session, user_ids: Iterable[str]) -> tuple[str, ...]:
        """The members among these whose cached profile must be looked up again."""
        now = self._clock.now()
        return tuple(u for u in dict.fromkeys(user_ids)
                     if members.needs_refresh(s, user_id=u, now=now))

    def _look_up(self, user_ids: Iterable[str]) -> dict[str, Profile | None]:
        """Profiles from the directory, called outside any unit of work (None: not available)."""
        profiles: dict[str, Profile | None] = {}
        for user_id in user_ids:
            try:
                profiles[user_id] = self._directory.profile(user_id)
            except Exception:  # a directory outage must not stop the command
                log.warning("could not look up %s; using the default timezone", user_id,
                            exc_info=True)
                profiles[user_id] = None
        return profiles

    def _remember(self, s: Session, profiles: dict[str, Profile | None]) -> None:
        """In the unit that writes: keep the profiles just looked up."""
        now = self._clock.now()
        for user_id, profile in profiles.items():
            members.remember(s, user_id=user_id, profile=profile, now=now)

    def _fresh(self, *user_ids: str) -> dict[str, Profile | None]:
        """Before a unit that writes: what it must remember so these members are up to date."""
        with unit_of_work(self._sessions, read_only=True) as s:
            stale = self._stale(s, user_ids)
        return self._look_up(stale)

    @contextmanager
    def _reading(self, *user_ids: str) -> Iterator[Session]:
        """The unit a turn reads in, with these members' profiles up to date: read-only when they
        already are; otherwise they are looked up first and this unit remembers them."""
        with unit_of_work(self._sessions, read_only=True) as s:
            stale = self._stale(s, user_ids)
            if not stale:
                yield s
                return
        profiles = self._look_up(stale)
        with unit_of_work(self._sessions) as s:
            self._remember(s, profiles)
            yield s

    def _tz(self, s: Session, user_id: str) -> ZoneInfo:
        return members.timezone_of(s, user_id=user_id, default=self.config.timezone)

    def _parse_due(self, s: Session, user_id: str, words: str) -> DueDate | DateProblem:
        config = self.config
        return parse_due(words, now=self._clock.now(), tz=self._tz(s, user_id),
                         session_at=config.session.starts_at, workday_end=config.workday_end)

    def _people(self, s: Session, caller: Caller,
                refs: tuple[PersonRef, ...]) -> tuple[str, ...] | Reply:
        """User ids for people as typed; a reply asking again when a name is unknown or ambiguous."""
        ids: list[str] = []
        for ref in refs:
            if ref.me:
                ids.append(caller.user_id)
            elif ref.user_id:
                ids.append(ref.user_id)
            else:
                found = members.named(s, name=ref.name or "")
                shown = ref.name or ""
                if not found:
                    return simple(f"I don't know anyone called *@{shown}* yet. Mention them with "
                                  "Slack's @ so the name turns blue, or use their member id "
                                  "(`@U…`). Nothing was changed.")
                if len(found) > 1:
                    return simple(md("Several people are called *@{}*: {}. Mention the one you "
                                     "mean with Slack's @. Nothing was changed.", shown,
                                     Mrkdwn(", ").join(mention(m.id) for m in found)))
                ids.append(found[0].id)
        return tuple(dict.fromkeys(ids))

    def _before_write(self, s: Session, caller: Caller, now: datetime) -> Reply | None:
        """In the unit that writes: why this request must not write (too many, a replay), or None."""
        per_minute = self.config.limits.writes_per_minute
        again = limits.next_write_at(s, actor_id=caller.user_id, now=now, per_minute=per_minute)
        if again is not None:
            wait = max(1, int((again - now).total_seconds() + 0.999))
            return simple(f"You have made {per_minute} changes in the last minute, the most allowed "
                          f"({per_minute} changes a minute). Nothing was recorded or changed; try "
                          f"again at {again.astimezone(self._tz(s, caller.user_id)):%H:%M:%S} "
                          f"(in {wait} second{'s' if wait != 1 else ''}).",
                          note="The limit is set under limits.writes_per_minute in settings.yaml.")
        if caller.request_id and not events.claim_request(s, trigger_id=caller.request_id, now=now):
            return already_handled()
        return None

    def _tell_removed(self, s: Session, c: CommitmentView, removed: Iterable[str], *,
                      actor_id: str, now: datetime) -> list[DirectMessage]:
        """The DMs to owners taken off a commitment (not the one who did it): at once, once."""
        kb = self.config.knowledge
        return [DirectMessage(who, commitment_replies.reassigned_dm(
                    c, kb=kb, tz=self._tz(s, who), now=now, actor_id=actor_id, added=False))
                for who in removed if who != actor_id]

    def _replan(self, s: Session, commitment_id: int) -> None:
        """In the unit that changed it: skip what was planned for the commitment and no longer
        applies, so the change and its re-planning are kept together or not at all."""
        relevance.revalidate_pending(s, config=self.config, now=self._clock.now(),
                                     commitment_id=commitment_id)


def already_handled() -> Reply:
    """The answer to a replayed request: it was carried out once, and nothing changes now."""
    return simple("That request was already handled, so nothing was changed this time.",
                  note="Type the command again to repeat it on purpose.")


def apology(logger: logging.Logger, context: str) -> Reply:
    """Log the current exception with a reference and return the short apology the user sees."""
    if isinstance(sys.exception(), DatabaseBusy):  # rolled back: nothing of this turn was written
        logger.warning("database busy while handling %s; answered 'try again'", context)
        return simple("The database is busy right now, so I could not do that. "
                      "Nothing was recorded or changed; please try again in a moment.")
    ref = secrets.token_hex(4)
    logger.exception("error ref=%s while handling %s", ref, context)
    text = (f"Sorry — something went wrong on my side and nothing was changed. "
            f"If it happens again, tell an admin the reference *{ref}*.")
    return Reply(parts=(Section(text), Note(f"error reference {ref}")), text=text)

