"""The scalar field types of the config files: each reads one YAML value or says, in plain
English, what is wrong with it (``'7 days' is not a duration; write it like 7d``).

A failure is raised as ``fail(message, *at)``; ``bot.config.problems`` turns it into an ``Issue`` at
the value's path (``at`` goes deeper, for a list checked as a whole).
"""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import croniter
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from bot.config.tokens import redact
from bot.moments import format_duration

DEFAULT_TIMEZONE = "Europe/Vienna"
MAX_DURATION = timedelta(days=3650)
DURATION_RE = re.compile(r"^(\d+)([dhms])$")
USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID_RE = re.compile(r"^[CGD][A-Z0-9]{2,}$")
REC_ID_RE = re.compile(r"^[SL]\d{1,2}$")
AREA_ID_RE = re.compile(r"^K\d{1,2}$")
ASPECT_ID_RE = re.compile(r"^A\d{1,2}$")
TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")
LOCAL_DATETIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$")
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
CRON_FIELDS = "minute hour day month weekday"


def kind_of(value: Any) -> str:
    """What a YAML value is, in words: 'a string', 'a list', 'a number', …"""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping (key: value lines)"
    if isinstance(value, (date, datetime)):
        return "a date"
    return f"a {type(value).__name__}"


def shown(value: Any) -> str:
    """A scalar value quoted for a message: ``'7 days'`` (a token-like value is hidden first)."""
    text = redact(str(value))
    if len(text) > 60:
        text = text[:57] + "..."
    return "'" + text.replace("\n", " ") + "'"


def fail(message: str, *at: str | int) -> PydanticCustomError:
    """A validation failure whose message goes to the admin as written (``at`` goes deeper)."""
    return PydanticCustomError("wgbot", "{message}", {"message": message, "at": tuple(at)})


def wrong(what: str, value: Any) -> PydanticCustomError:
    """The value has the wrong shape."""
    if value is None:
        return fail(f"no value given; expected {what}")
    return fail(f"expected {what}, got {kind_of(value)}")


# ---------------------------------------------------------------- scalar types


def plain_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise wrong("text", value)
    text = str(value).strip()
    if not text:
        raise fail("must not be empty")
    return text


Text = Annotated[str, BeforeValidator(plain_text)]


def _suggest_duration(value: str) -> str:
    """A corrected spelling of a duration, or a generic example."""
    units = {"d": "d", "day": "d", "days": "d", "h": "h", "hr": "h", "hrs": "h", "hour": "h",
             "hours": "h", "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
             "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s"}
    m = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", value)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        if unit in ("w", "wk", "wks", "week", "weeks"):
            return f"{n * 7}d" if n > 0 else "7d"
        if n > 0 and unit in units:
            return f"{n}{units[unit]}"
        if n > 0 and not unit:
            return f"{n}d"
    return "7d, 2h or 30m"


def parse_duration(value: Any) -> timedelta:
    """``30d``/``2h``/``30m``/``30s`` as a timedelta; raises a plain-English error otherwise."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise wrong("a duration like 7d", value)
    text = str(value).strip()
    m = DURATION_RE.fullmatch(text)
    if not m:
        raise fail(f"{shown(text)} is not a duration; write it like {_suggest_duration(text)}")
    n, unit = int(m.group(1)), m.group(2)
    if n == 0:
        raise fail(f"{shown(text)} must be longer than zero")
    seconds = n * {"d": 86400, "h": 3600, "m": 60, "s": 1}[unit]
    if seconds > MAX_DURATION.total_seconds():
        raise fail(f"{shown(text)} is too long; the longest allowed is "
                    f"{format_duration(MAX_DURATION)}")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _duration_list(value: Any) -> Any:
    if not isinstance(value, list):
        raise wrong("a list of durations", value)
    return value


def _distinct_longest_first(values: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    seen: dict[timedelta, int] = {}
    for i, d in enumerate(values):
        if d in seen:
            raise fail(f"{shown(format_duration(d))} is listed twice; list each duration once", i)
        seen[d] = i
    return tuple(sorted(values, reverse=True))


DurationList = Annotated[tuple[Duration, ...], BeforeValidator(_duration_list),
                         AfterValidator(_distinct_longest_first)]


@cache
def _known_timezones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def close_match(word: str, choices: Iterable[str], *, cutoff: float = 0.75) -> str | None:
    """The choice closest to word (case-insensitive), if any is close enough."""
    by_lower: dict[str, str] = {}
    for c in choices:
        by_lower.setdefault(c.lower(), c)
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=cutoff)
    return by_lower[found[0]] if found else None


def parse_timezone(value: Any) -> ZoneInfo:
    """An IANA timezone name as a ZoneInfo."""
    if isinstance(value, ZoneInfo):
        return value
    if not isinstance(value, str):
        raise wrong("an IANA timezone name like Europe/Vienna", value)
    name = value.strip()
    zone: ZoneInfo | None = None
    if name and name in _known_timezones():
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            zone = None
    if zone is None:
        guess = close_match(name, _known_timezones()) if name else None
        hint = f"did you mean {shown(guess)}?" if guess else "write it like Europe/Vienna"
        raise fail(f"{shown(name)} is not a known IANA timezone; {hint}")
    return zone


TimeZone = Annotated[ZoneInfo, BeforeValidator(parse_timezone)]


def parse_local_datetime(value: Any) -> datetime:
    """``YYYY-MM-DDTHH:MM`` as a naive datetime (read later in the config's timezone)."""
    example = "2027-03-04T10:00"
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value
    if isinstance(value, bool) or not isinstance(value, str):
        raise wrong(f"a local date and time like {example}", value)
    text = value.strip()
    m = LOCAL_DATETIME_RE.fullmatch(text)
    if not m:
        if DATE_RE.fullmatch(text):
            raise fail(f"{shown(text)} has no time of day; write it like {text}T10:00")
        raise fail(f"{shown(text)} is not a date and time; write it like {example}")
    y, mo, d, h, mi = (int(g) for g in m.groups()[:5])
    s = int(m.group(6) or 0)
    try:
        return datetime(y, mo, d, h, mi, s)
    except ValueError:
        raise fail(f"{shown(text)} is not a real date and time; write it like {example}") from None


LocalDateTime = Annotated[datetime, BeforeValidator(parse_local_datetime)]


def parse_time_of_day(value: Any) -> time:
    """``HH:MM`` as a time."""
    if isinstance(value, time):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise wrong('a time of day like "17:00"', value)
    text = value.strip()
    m = TIME_RE.fullmatch(text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise fail(f"{shown(text)} is not a time of day; write it like 17:00")
    return time(int(m.group(1)), int(m.group(2)))


TimeOfDay = Annotated[time, BeforeValidator(parse_time_of_day)]


def _plain_date(value: Any) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, str):
        raise wrong("a date like 2016-03-04", value)
    text = value.strip()
    m = DATE_RE.fullmatch(text)
    try:
        if not m:
            raise ValueError(text)
        date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise fail(f"{shown(text)} is not a date; write it like 2016-03-04") from None
    return text


PlainDate = Annotated[str, BeforeValidator(_plain_date)]


def parse_cron(value: Any) -> str:
    """A five-field cron expression (minute hour day month weekday), names like mon allowed."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise wrong('a cron expression in quotes, like "0 9 * * mon"', value)
    text = " ".join(value.split())
    bad = fail(f"{shown(text)} is not a valid cron expression ({CRON_FIELDS})")
    if len(text.split(" ")) != 5:
        raise bad
    try:
        if not croniter.is_valid(text):
            raise bad
        croniter(text, datetime(2027, 1, 1)).get_next(datetime)
    except PydanticCustomError:
        raise
    except Exception:
        raise fail(f"{shown(text)} never happens; pick a schedule that has real dates") from None
    return text


Cron = Annotated[str, BeforeValidator(parse_cron)]


def whole_number(minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not value.is_integer()):
            raise wrong("a whole number", value)
        if value < minimum:
            raise fail(f"must be {minimum} or more, got {value:g}")
        return int(value)
    return check


OverdueMax = Annotated[int, BeforeValidator(whole_number(0))]


def _poll_seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise wrong("a number of seconds", value)
    if value < 1:
        raise fail(f"must be at least 1 second, got {value:g}")
    if value > 86400:
        raise fail(f"must be at most 86400 seconds (a day), got {value:g}")
    return float(value)


PollSeconds = Annotated[float, BeforeValidator(_poll_seconds)]
MAX_MESSAGES_PER_MINUTE = 6000


def _messages_per_minute(value: Any) -> int:
    n = whole_number(1)(value)
    if n > MAX_MESSAGES_PER_MINUTE:
        raise fail(f"must be at most {MAX_MESSAGES_PER_MINUTE} (100 a second), got {n}")
    return n


MessagesPerMinute = Annotated[int, BeforeValidator(_messages_per_minute)]


def _user_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str):
        raise wrong("a Slack member id like U0123ABCD", value)
    text = value.strip()
    if not USER_ID_RE.fullmatch(text):
        raise fail(f"{shown(text)} is not a Slack member id; it looks like U0123ABCD "
                    "(profile → ⋮ → Copy member ID)")
    return text


UserId = Annotated[str, BeforeValidator(_user_id)]


def _channel_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        raise wrong("a Slack channel id like C0123ABCD", value)
    text = value.strip()
    if not CHANNEL_ID_RE.fullmatch(text):
        raise fail(f"{shown(text)} is not a Slack channel id; it looks like C0123ABCD "
                    "(channel details → the id at the bottom)")
    return text


ChannelId = Annotated[str | None, BeforeValidator(_channel_id)]


def list_of(what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, list):
            raise wrong(what, value)
        return value
    return check


TextList = Annotated[tuple[Text, ...], BeforeValidator(list_of("a list of words"))]


def _rec_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str):
        raise wrong("a recommendation id like S1 or L1", value)
    text = value.strip()
    if not REC_ID_RE.fullmatch(text):
        raise fail(f"{shown(text)} is not a recommendation id; write S1, S2… for the short "
                    "term or L1, L2… for the long term")
    return text


def _prefixed_id(pattern: re.Pattern[str], what: str, example: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str):
            raise wrong(f"{what} id like {example}", value)
        text = value.strip()
        if not pattern.fullmatch(text):
            raise fail(f"{shown(text)} is not {what} id; write it like {example}")
        return text
    return check


RecId = Annotated[str, BeforeValidator(_rec_id)]
AreaId = Annotated[str, BeforeValidator(_prefixed_id(AREA_ID_RE, "a key area", "K1"))]
AspectId = Annotated[str, BeforeValidator(_prefixed_id(ASPECT_ID_RE, "a security aspect", "A1"))]
AreaRefs = Annotated[tuple[AreaId, ...], BeforeValidator(list_of("a list of key area ids"))]
RecRefs = Annotated[tuple[RecId, ...], BeforeValidator(list_of("a list of recommendation ids"))]
