"""The effective config in words (``wgbot config check``) and what changed between two configs."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import time, timedelta

from bot.config.tokens import redact
from bot.config.types import Config, Person, QuietHours
from bot.config.knowledge import KnowledgeBase
from bot.moments import format_duration, format_moment

_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
_DAY_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_MONTHS = ["", "January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]


def _durations(ds: Sequence[timedelta]) -> str:
    return ", ".join(format_duration(d) for d in ds) if ds else "none"


def _hhmm(t: time) -> str:
    return f"{t:%H:%M}"


def _quiet(q: QuietHours | None) -> str:
    return f"{_hhmm(q.start)}–{_hhmm(q.end)}" if q is not None else "off"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _weekday(token: str) -> int | None:
    t = token.lower()
    if t in _DAY_NAMES:
        return _DAY_NAMES[t]
    if t.isdigit() and 0 <= int(t) <= 7:
        return int(t) % 7
    return None


def _weekdays(field: str) -> str | None:
    """A cron weekday field in words ("Mondays", "Mondays to Fridays"), None if too unusual."""
    parts = []
    for item in field.split(","):
        if "-" in item:
            lo, _, hi = item.partition("-")
            a, b = _weekday(lo), _weekday(hi)
            if a is None or b is None:
                return None
            parts.append(f"{_DAYS[a]}s to {_DAYS[b]}s")
        else:
            d = _weekday(item)
            if d is None:
                return None
            parts.append(f"{_DAYS[d]}s")
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def describe_cron(cron: str) -> str:
    """A five-field cron in words, e.g. ``every Monday at 09:00``; unusual ones are quoted."""
    fields = cron.split()
    fallback = f'on the cron schedule "{cron}"'
    if len(fields) != 5:
        return fallback
    minute, hour, dom, month, dow = fields
    if not (minute.isdigit() and hour.isdigit()) or int(hour) > 23 or int(minute) > 59:
        return fallback
    at = f"at {int(hour):02d}:{int(minute):02d}"
    if month != "*":
        return fallback
    if dom == "*" and dow == "*":
        return f"every day {at}"
    if dom == "*":
        days = _weekdays(dow)
        if days is None:
            return fallback
        if "," not in dow and "-" not in dow:
            return f"every {days[:-1]} {at}"
        return f"on {days} {at}"
    if dow == "*" and dom.isdigit():
        return f"on day {int(dom)} of every month {at}"
    return fallback


def _channel(c: str | None) -> str:
    return c if c else "not set"


def summary(config: Config) -> str:
    """One paragraph describing the effective config, for ``wgbot config check``."""
    s, r, kb = config.session, config.reminders, config.knowledge
    overdue = ("no overdue nudges" if r.overdue_max == 0 else
               f"up to {_plural(r.overdue_max, 'overdue nudge')} (one per working day)")
    quiet = (f"quiet hours {_quiet(config.quiet_hours)}" if config.quiet_hours is not None
             else "no quiet hours")
    return redact(
        f"Session: \u201c{s.title}\u201d on "
        f"{format_moment(s.starts_at, config.timezone, zone=False)} ({config.timezone.key}) "
        f"at {s.place}. "
        f"Channels: working group {_channel(config.channels.working_group)}, "
        f"coordinators {_channel(config.channels.coordinators)}. "
        f"{_plural(len(config.admins), 'admin')}, "
        f"{_plural(len(config.coordinators), 'coordinator')}. "
        f"Reminders before the session: {_durations(r.session)}; before each deadline: "
        f"{_durations(r.deadline)}; {overdue}. "
        f"Coordinator digest {describe_cron(config.digest.cron)} (each coordinator's time), "
        f"plus one {format_duration(config.digest.before_session)} before the session. "
        f"{quiet[0].upper() + quiet[1:]}; a date-only deadline ends at "
        f"{_hhmm(config.workday_end)}. "
        f"Checks for due reminders and config edits every {config.poll_seconds:g} seconds. "
        f"{_plural(len(kb.recommendations), 'recommendation')} "
        f"({len(kb.short_term())} short term, {len(kb.long_term())} long term) "
        f"in {_plural(len(kb.key_areas), 'key area')}."
    )


def _who(p: Person) -> str:
    return f"{p.id} ({p.name})"


def _people_changes(role: str, old: Sequence[Person], new: Sequence[Person]) -> list[str]:
    before = {p.id: p for p in old}
    after = {p.id: p for p in new}
    out = [f"{role} {_who(p)} added" for p in new if p.id not in before]
    out += [f"{role} {_who(p)} removed" for p in old if p.id not in after]
    out += [f"{role} {p.id} renamed from {before[p.id].name} to {p.name}"
            for p in new if p.id in before and before[p.id].name != p.name]
    return out


def _channel_change(label: str, old: str | None, new: str | None) -> list[str]:
    if old == new:
        return []
    if old is None:
        return [f"{label} channel set to {new}"]
    if new is None:
        return [f"{label} channel removed (was {old})"]
    return [f"{label} channel changed from {old} to {new}"]


def _knowledge_changes(old: KnowledgeBase, new: KnowledgeBase) -> list[str]:
    out: list[str] = []
    if old.context != new.context:
        out.append("report context edited")
    before = {a.id: a for a in old.key_areas}
    for a in new.key_areas:
        if a.id not in before:
            out.append(f"key area {a.id} added")
        elif before[a.id] != a:
            out.append(f"key area {a.id} edited")
    out += [f"key area {a.id} removed" for a in old.key_areas
            if a.id not in {b.id for b in new.key_areas}]
    if old.security_aspects != new.security_aspects:
        out.append("security aspects edited")
    if old.structural_drivers != new.structural_drivers:
        out.append("structural drivers edited")
    recs = {r.id: r for r in old.recommendations}
    for r in new.recommendations:
        was = recs.get(r.id)
        if was is None:
            out.append(f"recommendation {r.id} added")
            continue
        for name in ("title", "summary", "text", "keywords"):
            if getattr(was, name) != getattr(r, name):
                out.append(f"recommendation {r.id} {name} edited")
        if was.areas != r.areas:
            out.append(f"recommendation {r.id} areas now {', '.join(r.areas) or 'none'} "
                       f"(were {', '.join(was.areas) or 'none'})")
    out += [f"recommendation {r.id} removed" for r in old.recommendations
            if new.get(r.id) is None]
    if not out and old.ids() != new.ids():
        out.append("recommendations reordered")
    return out


# complexity: one flat comparison per setting, in the order the file has them
def changes(old: Config, new: Config) -> list[str]:  # noqa: C901
    """Short human lines saying what changed from old to new (empty when nothing did)."""
    out: list[str] = []
    if old.timezone.key != new.timezone.key:
        out.append(f"timezone changed from {old.timezone.key} to {new.timezone.key}")
    so, sn = old.session, new.session
    if so.title != sn.title:
        out.append(f"session title changed to \u201c{sn.title}\u201d")
    if so.starts_at != sn.starts_at:  # a different moment, not only another way to write it
        exact = bool(so.starts_at.second or sn.starts_at.second)  # never "from 05:31 to 05:31"
        was, now = (format_moment(so.starts_at, old.timezone, zone=False, seconds=exact),
                    format_moment(sn.starts_at, new.timezone, zone=False, seconds=exact))
        if old.timezone.key != new.timezone.key:
            was, now = f"{was} ({old.timezone.key})", f"{now} ({new.timezone.key})"
        out.append(f"session moved from {was} to {now}")
    if so.place != sn.place:
        out.append(f"session place changed from {so.place} to {sn.place}")
    out += _channel_change("working-group", old.channels.working_group,
                           new.channels.working_group)
    out += _channel_change("coordinators'", old.channels.coordinators, new.channels.coordinators)
    out += _people_changes("admin", old.admins, new.admins)
    out += _people_changes("coordinator", old.coordinators, new.coordinators)
    ro, rn = old.reminders, new.reminders
    if ro.session != rn.session:
        out.append(f"session reminders now {_durations(rn.session)} (were {_durations(ro.session)})")
    if ro.deadline != rn.deadline:
        out.append(f"deadline reminders now {_durations(rn.deadline)} "
                   f"(were {_durations(ro.deadline)})")
    if ro.overdue_max != rn.overdue_max:
        out.append(f"overdue nudges now at most {rn.overdue_max} (were {ro.overdue_max})")
    if old.digest.cron != new.digest.cron:
        out.append(f"digest schedule now {describe_cron(new.digest.cron)} "
                   f"(was {describe_cron(old.digest.cron)})")
    if old.digest.before_session != new.digest.before_session:
        out.append(f"extra digest now {format_duration(new.digest.before_session)} before the "
                   f"session (was {format_duration(old.digest.before_session)})")
    if old.quiet_hours != new.quiet_hours:
        if new.quiet_hours is None:
            out.append(f"quiet hours turned off (were {_quiet(old.quiet_hours)})")
        elif old.quiet_hours is None:
            out.append(f"quiet hours turned on: {_quiet(new.quiet_hours)}")
        else:
            out.append(f"quiet hours now {_quiet(new.quiet_hours)} (were {_quiet(old.quiet_hours)})")
    if old.workday_end != new.workday_end:
        out.append(f"date-only deadlines now end at {_hhmm(new.workday_end)} "
                   f"(was {_hhmm(old.workday_end)})")
    if old.poll_seconds != new.poll_seconds:
        out.append(f"checks now every {new.poll_seconds:g} seconds (was {old.poll_seconds:g})")
    if old.messages_per_minute != new.messages_per_minute:
        out.append(f"at most {new.messages_per_minute} messages a minute now "
                   f"(was {old.messages_per_minute})")
    out += _knowledge_changes(old.knowledge, new.knowledge)
    out += _delegation_changes(old, new)
    return [redact(line) for line in out]


def _delegation_changes(old: Config, new: Config) -> list[str]:
    """Delegations added, removed, or with members added or removed."""
    was = {d.name: set(d.members) for d in old.delegations}
    now = {d.name: set(d.members) for d in new.delegations}
    out = [f"delegation {name} added" for name in now if name not in was]
    out += [f"delegation {name} removed" for name in was if name not in now]
    for name in (n for n in now if n in was and now[n] != was[n]):
        bits = [f"{uid} added" for uid in sorted(now[name] - was[name])]
        bits += [f"{uid} removed" for uid in sorted(was[name] - now[name])]
        out.append(f"delegation {name}: " + ", ".join(bits))
    return out


def affects_reminders(old: Config, new: Config) -> bool:
    """True when pending reminders or digests may need re-planning after this change."""
    return (
        old.session.starts_at != new.session.starts_at
        or old.timezone.key != new.timezone.key
        or old.reminders != new.reminders
        or tuple(p.id for p in old.coordinators) != tuple(p.id for p in new.coordinators)
        or old.digest != new.digest
        or old.quiet_hours != new.quiet_hours
        or old.workday_end != new.workday_end
        or old.channels.working_group != new.channels.working_group
    )
