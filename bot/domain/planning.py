"""What is due when: pure scheduling decisions for countdowns, reminders, nudges and digests.

Every notification has a nominal moment. The sweep plans those whose moment falls in the window
(last sweep, now]; its cost follows the number of notifications due, never the number of commitments.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, UTC
from zoneinfo import ZoneInfo

from croniter import croniter

from bot.config.types import Config, QuietHours
from bot.domain.dates import add_workdays, at_local
from bot.moments import format_duration

SUMMARY_SUBJECT = "summary"  # the weekly digest's summary in the coordinators' channel


@dataclass(frozen=True)
class Planned:
    """A notification to create in the outbox."""

    kind: str
    recipient: str
    subject: str
    moment: datetime
    send_after: datetime

    @property
    def key(self) -> str:
        """The unique key: kind, recipient, subject and due moment."""
        return f"{self.kind}|{self.recipient}|{self.subject}|{stamp(self.moment)}"


def stamp(moment: datetime) -> str:
    """A moment as a compact UTC ISO string."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unstamp(text: str) -> datetime:
    """The inverse of stamp()."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def commitment_subject(commitment_id: int, due_at: datetime) -> str:
    """Subject of a commitment's reminders: its id and the deadline they were planned for."""
    return f"c{commitment_id}@{stamp(due_at)}"


def parse_commitment_subject(subject: str) -> tuple[int, datetime] | None:
    """(id, planned deadline) from a commitment subject."""
    try:
        head, _, when = subject.partition("@")
        return int(head[1:]), unstamp(when)
    except ValueError:
        return None


def session_subject(starts_at: datetime) -> str:
    """Subject of a countdown: the session moment it counts down to."""
    return f"session@{stamp(starts_at)}"


def offset_label(offset: timedelta) -> str:
    """'1-day', '30-day', '2-hour': an offset as an adjective (the 1-day countdown)."""
    n, unit = format_duration(offset, words=True).split(" ", 1)
    return f"{n}-{unit.removesuffix('s')}"


def on_time(planned: timedelta, poll: timedelta = timedelta(0)) -> timedelta:
    """How late a notification may go out and still count as on time (for its wording).

    A sweep every `poll` may find it up to one poll late; never more than a tenth of the offset.
    """
    return min(max(timedelta(minutes=1), poll), planned / 10)


def time_left(left: timedelta, planned: timedelta | None = None, *,
              poll: timedelta = timedelta(0)) -> str:
    """How much time remains, in one unit, never more than remains.

    A notification sent on time (within on_time of its moment) names its planned offset exactly
    ("30 days", not "29 days"); a late one names what is left, rounded down ("21 hours").
    """
    if planned is not None and timedelta(0) <= planned - left <= on_time(planned, poll):
        return format_duration(planned, words=True)
    secs = max(0, int(left.total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if secs >= size:
            n = secs // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "0 seconds"


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    """The moment on the wall clock of tz."""
    return moment.astimezone(tz)


def quiet_shift(moment: datetime, tz: ZoneInfo, quiet: QuietHours | None) -> datetime:
    """When a DM planned for moment may go out: after the quiet hours in the recipient's timezone."""
    if quiet is None:
        return moment
    loc = local(moment, tz)
    if not quiet.contains(loc.time().replace(tzinfo=None)):
        return moment
    end_day = loc if loc.time() < quiet.end else loc + timedelta(days=1)
    return at_local(end_day.date(), quiet.end, tz)


def nth_working_day_after(due_at: datetime, n: int, tz: ZoneInfo) -> datetime:
    """The same local time of day, n working days (Mon–Fri) after the deadline's date."""
    loc = local(due_at, tz)
    return at_local(add_workdays(loc.date(), n), loc.time().replace(tzinfo=None, fold=0), tz)


def first_nudge(due_at: datetime, *, config: Config) -> datetime | None:
    """When the first overdue nudge falls due (None when nudges are off)."""
    if config.reminders.overdue_max <= 0:
        return None
    return nth_working_day_after(due_at, 1, config.timezone)


def countdowns(config: Config, *, after: datetime, until: datetime) -> list[Planned]:
    """Session countdown posts to the working-group channel with moments in (after, until]."""
    channel = config.channels.working_group
    if not channel:
        return []
    start = config.session.starts_at.astimezone(UTC)
    out = []
    for offset in config.reminders.session:
        moment = start - offset
        if after < moment <= until:
            out.append(Planned("countdown", channel, session_subject(start), moment, moment))
    return out


def deadline_window(offset: timedelta, *, after: datetime, until: datetime
                    ) -> tuple[datetime, datetime]:
    """Deadlines whose reminder `offset` before falls in (after, until] lie in this (lo, hi] range."""
    return after + offset, until + offset


def cron_moments(cron: str, tz: ZoneInfo, *, after: datetime, until: datetime,
                 limit: int = 50) -> list[datetime]:
    """Cron fire times (read on tz's wall clock) in (after, until], as UTC moments."""
    out: list[datetime] = []
    it = croniter(cron, local(after, tz))
    for _ in range(limit):
        nxt: datetime = it.get_next(datetime)
        if nxt.tzinfo is None:
            nxt = nxt.replace(tzinfo=tz)
        moment = nxt.astimezone(UTC)
        if moment > until:
            break
        if moment > after:
            out.append(moment)
    return out


# A coordinator's weekly digest this close to the one before the session (either side) is left
# out: two digests a day apart would say nearly the same, and the one before the session says it.
DIGEST_FOLD = timedelta(days=1)


def digests(config: Config, *, after: datetime, until: datetime,
            tz_of: dict[str, ZoneInfo]) -> list[Planned]:
    """Coordinator digests by cron (each in the coordinator's timezone) and the one before the session."""
    out: list[Planned] = []
    pre = config.session.starts_at.astimezone(UTC) - config.digest.before_session
    for person in config.coordinators:
        tz = tz_of.get(person.id, config.timezone)
        for moment in cron_moments(config.digest.cron, tz, after=after, until=until):
            if abs(moment - pre) >= DIGEST_FOLD:
                out.append(Planned("digest", person.id, "weekly", moment,
                                   quiet_shift(moment, tz, config.quiet_hours)))
        if after < pre <= until:
            out.append(Planned("digest", person.id,
                               session_subject(config.session.starts_at), pre,
                               quiet_shift(pre, tz, config.quiet_hours)))
    channel = config.channels.coordinators
    if channel and config.coordinators:  # the weekly summary, in the config timezone
        for moment in cron_moments(config.digest.cron, config.timezone, after=after, until=until):
            out.append(Planned("digest", channel, SUMMARY_SUBJECT, moment, moment))
    return out
