"""The validated, frozen configuration the rest of the bot reads (built by ``bot.config.load``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config.knowledge import KnowledgeBase

# Slack allows about one message a second per channel and several hundred a minute per workspace.
DEFAULT_MESSAGES_PER_MINUTE = 240


@dataclass(frozen=True)
class Person:
    """A Slack user named in the config (admin or coordinator)."""

    id: str
    name: str


@dataclass(frozen=True)
class Delegation:
    """A delegation and the members the admins say act for it."""

    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class SpecialSession:
    """The special session of the Permanent Council dedicated to migration."""

    title: str
    starts_at: datetime  # aware, in the config timezone
    place: str


@dataclass(frozen=True)
class Channels:
    """Slack channel ids; None when not configured."""

    working_group: str | None
    coordinators: str | None


@dataclass(frozen=True)
class Reminders:
    """When reminders go out."""

    session: tuple[timedelta, ...]  # offsets before the session, longest first
    deadline: tuple[timedelta, ...]  # offsets before each deadline, longest first
    overdue_max: int  # overdue nudges per commitment, one per working day


@dataclass(frozen=True)
class Digest:
    """Coordinator digest schedule."""

    cron: str  # five-field cron, in each coordinator's timezone
    before_session: timedelta  # one extra digest this long before the session


@dataclass(frozen=True)
class QuietHours:
    """No DMs between start and end in the recipient's timezone (may wrap midnight)."""

    start: time
    end: time

    def contains(self, t: time) -> bool:
        """True when the local time t falls inside the quiet hours."""
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


@dataclass(frozen=True)
class Limits:
    """Per-member limits that keep one member from flooding the bot or another member."""

    writes_per_minute: int = 20  # changes (commit, done, move, cancel, reopen) per member
    notice_batch: timedelta = timedelta(minutes=1)  # what others did to one member's, one DM


@dataclass(frozen=True)
class Config:
    """Everything an admin controls, validated."""

    timezone: ZoneInfo
    session: SpecialSession
    channels: Channels
    admins: tuple[Person, ...]
    coordinators: tuple[Person, ...]
    reminders: Reminders
    digest: Digest
    quiet_hours: QuietHours | None
    poll_seconds: float
    workday_end: time
    knowledge: KnowledgeBase
    limits: Limits = Limits()
    messages_per_minute: int = DEFAULT_MESSAGES_PER_MINUTE  # the pace of outgoing messages
    delegations: tuple[Delegation, ...] = ()

    def fixed_delegation(self, user_id: str) -> str | None:
        """The delegation config assigns to a member, or None when the member may set their own."""
        for d in self.delegations:
            if user_id in d.members:
                return d.name
        return None

    def is_admin(self, user_id: str) -> bool:
        """True for a user listed under admins."""
        return any(p.id == user_id for p in self.admins)

    def is_coordinator(self, user_id: str) -> bool:
        """True for a user listed under coordinators."""
        return any(p.id == user_id for p in self.coordinators)

    def role_of(self, user_id: str) -> str:
        """'admin', 'coordinator' or 'member'."""
        if self.is_admin(user_id):
            return "admin"
        if self.is_coordinator(user_id):
            return "coordinator"
        return "member"
