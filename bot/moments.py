"""How moments and durations are written, in one form for replies, the settings file and the
config report, and how a moment typed on the command line is read. It sits below config and
domain (it imports neither), so both can use it."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # English whatever the locale
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNITS = ((86400, "d", "day"), (3600, "h", "hour"), (60, "m", "minute"), (1, "s", "second"))


def format_day(at: datetime, tz: tzinfo) -> str:
    """The day of a moment on tz's clock, e.g. 'Fri 4 Dec 2026' (a naive moment is UTC)."""
    return _day_text(as_utc(at).astimezone(tz).date())


def format_moment(at: datetime, tz: tzinfo, *, zone: bool = True, seconds: bool = False) -> str:
    """A moment on tz's clock, e.g. 'Fri 4 Dec 2026, 17:00 Europe/Vienna' (a naive moment is UTC).

    ``zone=False`` leaves out the zone's name where the text names it once; ``seconds=True``
    writes them (``10:00:30``).
    """
    local = as_utc(at).astimezone(tz)
    text = f"{_day_text(local.date())}, {local:%H:%M}" + (f":{local:%S}" if seconds else "")
    return f"{text} {_zone_name(tz)}" if zone else text


def to_the_minute(at: datetime, tz: tzinfo) -> datetime:
    """A moment as replies and date pickers show it: tz's wall time, to the minute."""
    return as_utc(at).astimezone(tz).replace(second=0, microsecond=0)


def format_duration(d: timedelta, *, words: bool = False) -> str:
    """A duration in the largest unit that divides it: '7d', '2h', '90s' as the settings file
    writes it, or with ``words=True`` '7 days', '1 hour', '90 seconds'."""
    seconds = int(d.total_seconds())
    size, short, word = next(u for u in _UNITS if seconds % u[0] == 0 and (seconds or u[0] == 1))
    n = seconds // size
    return f"{n} {word}{'' if abs(n) == 1 else 's'}" if words else f"{n}{short}"


def _day_text(d: date) -> str:
    return f"{_WEEKDAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def _zone_name(tz: tzinfo) -> str:
    key = getattr(tz, "key", None)
    return str(key) if key else str(tz.tzname(None) or tz)


def as_utc(at: datetime) -> datetime:
    """The moment in UTC; a naive one is taken to be UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def read_moment(text: str, *, option: str = "--at") -> datetime:
    """An ISO moment as typed after `option` (2027-02-25T09:00, …Z, …+01:00); naive when it names
    no offset. ValueError, saying what is wanted, when it is none."""
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as e:
        raise ValueError(f"{option} wants an ISO moment like 2027-02-25T09:00, not {text!r}") from e
