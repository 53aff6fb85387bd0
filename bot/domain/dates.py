"""Deadlines in words: what follows `by` in `/wg commit … by <date>` and `to` in `/wg move … to <date>`.

Pure code: the current moment, the caller's timezone, the session date and the end of the working
day are all passed in; nothing here reads the clock, the environment or the network.
`parse_due` never raises and never returns a moment that is not strictly after `now` (unless
`allow_past=True`); anything it cannot use comes back as a `DateProblem` whose message says what
was understood and what to type instead.

Why a hand-written grammar and not `dateparser`: dateparser turns almost anything into a date
(`a`, `1` and `may` all become dates), takes about half a second to import and warm up, and then
~2 ms a call. A deadline read wrongly is worse than one not read at all, so only the forms below
are understood; everything else gets a friendly "try this instead". A call costs 40-130
microseconds, whatever the input (at most 100 characters are read).

Everything is read in the caller's timezone `tz`, relative to `now`, unless the text names a zone
(`17:00 UTC`, `2026-12-04T17:00+01:00`, `… Europe/Vienna`): then that zone wins for the date and
the time, and the result is still reported in `tz`. Case, commas, surrounding quotes, trailing
punctuation and a leading `by` / `on` / `until` / `due` are ignored.

The rules, chosen so that the confirmation the user sees is never a surprise:

* A date without a time of day means the end of that working day: `workday_end` (17:00 by
  default) local time, `date_only=True`. So do `eod`, `end of day` and `close of business`.
* Times: `17:00`, `17:00:30`, `5pm`, `5:30 pm`, `at 15` (13 to 23 only), `noon`/`midday`
  (12:00), `morning` (09:00), `evening`/`tonight` (20:00), `midnight` and `24:00` (23:59 of that
  day, so `Friday midnight` stays on Friday). European `17.30` is a time after a date (`tomorrow
  17.30`), after `at` or before am/pm; alone or after a weekday (`Friday 15.12`) it is a day and
  month. `at 5` is refused as ambiguous (05:00 or 17:00?).
  A time with no date (`17:00`, `noon`) is the next such moment: today if still ahead, else
  tomorrow.
* `today`, `tomorrow`, `the day after tomorrow` are fixed days (`today 08:00` at 10:00 is in the
  past and is refused). `tonight` is today at 20:00; `this morning`/`this evening` are today.
* Weekdays use weeks that start on Monday:
  - `Friday`, `on Friday`, `this Friday`, `coming Friday`: the first Friday whose resulting moment
    is still ahead (today counts when the time, by default the end of the working day, has not
    passed yet; on a Friday evening it is the Friday a week later);
  - `next Friday`, `Friday next week`: the Friday of next week. On a Thursday that is 8 days away
    (tomorrow is `Friday`); on a Saturday or Sunday it is the same day as `Friday`.
  - `Friday this week`: this week's Friday, even if it has passed (then it is refused as past).
* Day and month, European order: `15 Dec`, `15th of December`, `Dec 15`, `15/12`, `15.12.`,
  `15-12-2027`, `15/12/27`, `2026-12-04`, `2026/12/04`. Without a year: the next occurrence
  whose moment is still ahead (`15 Jan` in December is next January; `29 Feb` the next leap
  year). `the 15th` is the next 15th of a month. A weekday in front (`Fri 4 Dec 2026`) must agree
  with the day chosen, or the words are refused ("4 Dec 2026 is a Friday, not a Thursday").
* Relative: `in 3 weeks`, `in two days`, `in a month`, `in a fortnight`, `3 weeks from now`,
  `in 5 working days` (Monday to Friday, no holidays): days, weeks, months and years count
  calendar days in `tz` and land on the end of the working day (or the time given: `in 2 days at
  10:00`); `in a month` on 31 January is 28/29 February. Hours and minutes are elapsed time
  (`in 5 hours`, `in half an hour`), rounded down to the minute, and take no time of day.
* `next week` is `in a week` (same weekday, seven days on); `next month` is `in a month`;
  `next year` is `in a year`.
* `end of week` (also `end of the week`, `this week`, `eow`): the coming Friday, exactly like
  `Friday`; `end of next week`: next week's Friday. `end of month` (`end of the month`, `this
  month`, `eom`): the last calendar day of the month, or of next month once that moment has
  passed; `end of next month`; `end of December [2027]`. `end of year` (`this year`, `eoy`):
  31 December, likewise; `end of next year`. `start of next week|month|year` and `start of
  December`: Monday / the 1st. All at the end of the working day unless a time is given.
* `the session`, `session`, `the special session`: exactly `session_at`; `a week before the
  session`, `2 days before the session` count back from it (days and longer keep its time of day).
  With no session date configured this is a problem, not a guess.
* Daylight saving: a local time that does not exist (the spring-forward gap, e.g. 2027-03-28
  02:30 Europe/Vienna) is moved forward by the length of the gap (03:30); a local time that
  happens twice (fall back) is the first occurrence (fold=0, summer time).
* Problems: empty input, more than 100 characters, impossible dates (`30 February`,
  `2026-02-30`, `31/04`, `15/13`) and times (`25:00`), moments in the past, dates more than
  10 years ahead, and anything not understood.

`format_moment` / `format_day` (defined in `bot/moments.py`, shared with the config) write a
moment unambiguously (`Fri 4 Dec 2026, 17:00 Europe/Vienna`); `parse_due` reads that form back.
A naive datetime given to them (or as `now` / `session_at`) is taken to be UTC.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from dateutil.relativedelta import relativedelta  # type: ignore[import-untyped, unused-ignore]

from bot.moments import as_utc, format_day, format_moment, to_the_minute

__all__ = ["DateProblem", "DueDate", "add_workdays", "at_local", "format_day", "format_moment",
           "parse_due", "to_the_minute"]

MAX_WORDS = 100
MAX_YEARS_AHEAD = 10
EXAMPLES = "`2027-02-28`, `15 Dec`, `next Friday` or `in 3 weeks`"
FUTURE_EXAMPLES = "`tomorrow`, `next Friday` or `in 2 weeks`"

MORNING = time(9, 0)
NOON = time(12, 0)
EVENING = time(20, 0)
MIDNIGHT = time(23, 59)  # the last minute of the day: `Friday midnight` stays on Friday

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")

_WEEKDAYS = {"monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "wed": 2,
             "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4,
             "saturday": 5, "sat": 5, "sunday": 6, "sun": 6}
_MONTHS = {"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
           "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
           "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11,
           "nov": 11, "december": 12, "dec": 12}
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "a couple of": 2, "a couple": 2, "couple of": 2,
                 "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
# unit → (kind, amount of that kind per unit); kinds: minutes, workdays, days, months
_UNITS = {"minutes": ("minutes", 1), "minute": ("minutes", 1), "mins": ("minutes", 1),
          "min": ("minutes", 1), "hours": ("minutes", 60), "hour": ("minutes", 60),
          "hrs": ("minutes", 60), "hr": ("minutes", 60), "h": ("minutes", 60),
          "working days": ("workdays", 1), "working day": ("workdays", 1),
          "work days": ("workdays", 1), "work day": ("workdays", 1), "workdays": ("workdays", 1),
          "workday": ("workdays", 1), "business days": ("workdays", 1),
          "business day": ("workdays", 1), "days": ("days", 1), "day": ("days", 1),
          "d": ("days", 1), "weeks": ("days", 7), "week": ("days", 7), "wks": ("days", 7),
          "wk": ("days", 7), "w": ("days", 7), "fortnights": ("days", 14),
          "fortnight": ("days", 14), "months": ("months", 1), "month": ("months", 1),
          "mos": ("months", 1), "mo": ("months", 1), "years": ("months", 12),
          "year": ("months", 12), "yrs": ("months", 12), "yr": ("months", 12),
          "y": ("months", 12)}
_ROUGH_DAYS = {"minutes": 1 / 1440, "workdays": 1.4, "days": 1, "months": 31}


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_WD = _alternatives(_WEEKDAYS)
_MON = rf"(?:{_alternatives(_MONTHS)})\.?"
_AMOUNT = rf"(?:(?P<n>\d{{1,6}})\s*|(?P<nw>{_alternatives(_NUMBER_WORDS)})\s+)"
_UNIT = _alternatives(_UNITS)
_DAY = r"(?:the\s+)?(?P<d>\d{1,3})(?:st|nd|rd|th)?"
_YEAR = r"(?:\s+(?P<y>\d{4}|'\d{2}))?"

_CLOCK = (r"(?:(?P<h>\d{1,3})(?P<sep>[:.])(?P<mi>\d{1,3})(?::(?P<sec>\d{1,2}))?"
          r"(?:\s*(?P<ap>[ap])\.?\s?m\b\.?)?"
          r"|(?P<h2>\d{1,3})\s*(?P<ap2>[ap])\.?\s?m\b\.?)")
_NAMED = (r"(?P<named>noon|midday|midnight|(?:in\s+the\s+)?morning|(?:in\s+the\s+)?evening|eod|cob"
          r"|end\s+of\s+(?:the\s+)?(?:working\s+|work\s+|business\s+)?day|end\s+of\s+business"
          r"|close\s+of\s+(?:the\s+)?business(?:\s+day)?)")
_PRE = r"(?:(?P<pre>at|@|by|before|around)\s*)?"
_TIME_END = re.compile(rf"^(?:(?P<date>.*?)\s+)??{_PRE}(?:{_CLOCK}|{_NAMED})$")
_TIME_START = re.compile(rf"^{_PRE}(?:{_CLOCK}|{_NAMED})\s+(?:on\s+)?(?P<date>.+)$")
_BARE_HOUR = re.compile(r"^(?:(?P<date>.*?)\s+)??(?:at|@)\s*(?P<n>\d{1,2})$")

_ZONE_OFFSET = re.compile(r"^(?P<rest>.*\d:\d\d(?::\d\d)?)\s*(?P<z>z|utc|gmt|[+-]\d{2}(?::?\d{2})?)$")
_ZONE_WORD = re.compile(r"^(?P<rest>.*\S)\s+(?P<z>utc|gmt|z|[a-z_]+(?:/[a-z0-9_+\-]+)+)$")
_OFFSET = re.compile(r"^(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})?$")

_FILLER_START = re.compile(r"^(?:by|on|until|till|til|due(?:\s+(?:by|on))?|no\s+later\s+than)\s+")
_FILLER_END = re.compile(r"\s+(?:at\s+the\s+latest|latest)$")

_TODAYISH = {"today": 0, "tod": 0, "tonight": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "tomorow": 1,
             "tommorow": 1, "tommorrow": 1, "day after tomorrow": 2,
             "the day after tomorrow": 2, "yesterday": -1}
_WEEKDAY = re.compile(rf"^(?:(?P<pre>this\s+coming|coming|this|next|on)\s+)?(?P<wd>{_WD})"
                      rf"(?:\s+(?P<post>this|next)\s+week)?$")
_WEEKDAY_PREFIX = re.compile(rf"^(?P<wd>{_WD})\.?\s+(?P<rest>.+)$")
_ISO = re.compile(r"^(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})$")
_NUMERIC = re.compile(r"^(?P<d>\d{1,2})(?P<s>[./-])(?P<m>\d{1,2})(?:(?P=s)(?P<y>\d{4}|\d{2}))?$")
_DAY_MONTH = re.compile(rf"^{_DAY}(?:\s+of)?\s*(?P<mon>{_MON}){_YEAR}$")
_MONTH_DAY = re.compile(rf"^(?P<mon>{_MON})\s+{_DAY}{_YEAR}$")
_DAY_OF_MONTH = re.compile(r"^(?:the\s+)?(?P<d>\d{1,3})(?:st|nd|rd|th)$")
_DATES = (_ISO, _NUMERIC, _DAY_MONTH, _MONTH_DAY, _DAY_OF_MONTH)
_RELATIVE = re.compile(rf"^(?:in\s+)?{_AMOUNT}(?P<unit>{_UNIT})"
                       rf"(?:\s+(?:from\s+(?:now|today)|later|time))?$")
_HALF_HOUR = re.compile(r"^(?:in\s+)?half\s+an?\s+hour(?:\s+from\s+now)?$")
_NEXT = re.compile(r"^next\s+(?P<unit>week|month|year)$")
_EDGE = re.compile(r"^(?P<edge>end|start|beginning)\s+of\s+(?:the\s+)?(?P<which>this\s+|next\s+)?"
                   r"(?:working\s+|work\s+)?(?P<unit>week|month|year)$")
_EDGE_SHORT = {"eow": ("end", "week"), "eom": ("end", "month"), "eoy": ("end", "year"),
               "this week": ("end", "week"), "this month": ("end", "month"),
               "this year": ("end", "year")}
_EDGE_MONTH = re.compile(rf"^(?P<edge>end|start|beginning)\s+of\s+(?P<mon>{_MON}){_YEAR}$")
_SESSION = r"(?:the\s+)?(?:next\s+)?(?:special\s+)?session"
_SESSION_ONLY = re.compile(rf"^{_SESSION}$")
_BEFORE_SESSION = re.compile(rf"^(?:{_AMOUNT}(?P<unit>{_UNIT})|the\s+day)"
                             rf"\s+before\s+{_SESSION}$")


# ---------------------------------------------------------------------------------------- results

@dataclass(frozen=True)
class DueDate:
    """A deadline that was understood."""

    at: datetime            # aware, UTC
    local: datetime         # the same moment in the caller's timezone
    words: str              # what the user typed, stripped
    date_only: bool         # True when no time of day was given (end of working day applied)


@dataclass(frozen=True)
class DateProblem:
    """Words that could not be used as a deadline, with a message for the user (Slack mrkdwn)."""

    words: str              # what the user typed
    message: str            # what was understood and what to type instead


# ----------------------------------------------------------------------------------- the grammar

class _Unreadable(Exception):
    """The words are not a date; `why` (when known) says what is wrong with them."""

    def __init__(self, why: str | None = None) -> None:
        super().__init__(why)
        self.why = why


class _Refused(Exception):
    """A complete message for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _AmbiguousHour(Exception):
    """`at 5`: morning or afternoon?"""

    def __init__(self, hour: int) -> None:
        super().__init__(hour)
        self.hour = hour


class _TooFar(Exception):
    """More than MAX_YEARS_AHEAD years ahead."""


@dataclass(frozen=True)
class _Days:
    """Candidate days, earliest first: a single one is fixed; with more, the first still ahead wins."""

    candidates: tuple[date, ...]
    default: time | None = None  # the time when none is given; None: the end of the working day
    weekday: int | None = None   # the weekday the chosen day must fall on (`Fri 4 Dec`)


@dataclass(frozen=True)
class _Exact:
    """A moment that takes no time of day (`in 5 hours`, `the session`)."""

    at: datetime


@dataclass(frozen=True)
class _Context:
    now: datetime
    today: date
    zone: tzinfo
    session_at: datetime | None


_NO_TIME = object()  # the text gave no time of day


def _normalise(words: str) -> str:
    s = re.sub(r"\s+", " ", words.lower().replace(",", " ")).strip()
    s = s.strip("\"'`*_~“”‘’«» ")
    s = re.sub(r"[.!?;:]+$", "", s).strip()
    s = _FILLER_START.sub("", s)
    s = _FILLER_END.sub("", s)
    return re.sub(r"(?<=\d)t(?=\d)", " ", s)  # 2026-12-04T17:00


@cache
def _zone_keys() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _split_zone(s: str) -> tuple[str, tzinfo | None]:
    """Take a zone named at the end (`17:00 UTC`, `+01:00`, `Europe/Vienna`) off the text."""
    m = _ZONE_OFFSET.match(s) or _ZONE_WORD.match(s)
    if not m:
        return s, None
    rest, z = m["rest"].strip(), m["z"]
    if z in ("z", "utc", "gmt"):
        return rest, UTC
    offset = _OFFSET.match(z)
    if offset:
        hours, minutes = int(offset["h"]), int(offset["m"] or 0)
        if hours > 23 or minutes > 59:
            raise _Unreadable(f"{z} is not a UTC offset")
        delta = timedelta(hours=hours, minutes=minutes)
        return rest, timezone(-delta if offset["sign"] == "-" else delta)
    key = _zone_keys().get(z)
    if key is None:
        if "/" in z:
            raise _Unreadable(f"I don't know the timezone {z}")
        return s, None
    try:
        return rest, ZoneInfo(key)
    except (ValueError, OSError):  # a broken tz database entry
        raise _Unreadable(f"I don't know the timezone {z}") from None


def _split_time(s: str) -> tuple[str, object]:
    """Separate a time of day from the date words: (date words, time | None for end of day | _NO_TIME)."""
    bare = _BARE_HOUR.match(s)
    if bare:
        n = int(bare["n"])
        if 13 <= n <= 23:  # `at 15` can only be the afternoon
            return (bare["date"] or "").strip(), time(n, 0)
        raise _AmbiguousHour(n)
    for pattern in (_TIME_END, _TIME_START):
        m = pattern.match(s)
        if m and m["sep"] == "." and not m["ap"] and m["pre"] not in ("at", "@") and (
                pattern is _TIME_START or not m["date"] or _WEEKDAY.match(m["date"])):
            continue  # `15.12` and `Friday 15.12` are dates; `tomorrow 17.30` is a time
        if m:
            return (m["date"] or "").strip(), _time_of_day(m)
    return s, _NO_TIME


def _time_of_day(m: re.Match[str]) -> time | None:
    named = m["named"]
    if named:
        named = re.sub(r"^in\s+the\s+", "", named)
        return {"noon": NOON, "midday": NOON, "midnight": MIDNIGHT, "morning": MORNING,
                "evening": EVENING}.get(named)  # the rest mean the end of the working day
    if m["h2"]:
        typed = f"{m['h2']}{m['ap2']}m"
        hour, minute, second, ap = int(m["h2"]), 0, 0, m["ap2"]
    else:
        typed = (f"{m['h']}{m['sep']}{m['mi']}" + (f":{m['sec']}" if m["sec"] else "")
                 + (f" {m['ap']}m" if m["ap"] else ""))
        if len(m["mi"]) != 2 or len(m["h"]) > 2:
            raise _Unreadable(f"{typed} is not a time of day")
        hour, minute, second, ap = int(m["h"]), int(m["mi"]), int(m["sec"] or 0), m["ap"]
    if minute > 59 or second > 59:
        raise _Unreadable(f"{typed} is not a time of day")
    if ap:
        if not 1 <= hour <= 12:
            raise _Unreadable(f"{typed} is not a time of day")
        return time(hour % 12 + (12 if ap == "p" else 0), minute, second)
    if hour == 24 and minute == 0 and second == 0:
        return MIDNIGHT
    if hour > 23:
        raise _Unreadable(f"{typed} is not a time of day")
    return time(hour, minute, second)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _check_day(day: int, month: int, year: int | None) -> None:
    """Refuse a day the month does not have (any year when `year` is None)."""
    if not 1 <= month <= 12:
        raise _Unreadable(f"there is no month {month}")
    name = _MONTH_NAMES[month - 1]
    if day < 1:
        raise _Unreadable(f"{name} has no day {day}")
    most = calendar.monthrange(year if year else 2000, month)[1]  # 2000 is a leap year
    if day > most:
        if month == 2 and day == 29 and year:
            raise _Unreadable(f"February {year} has no 29th ({year} is not a leap year)")
        raise _Unreadable(f"{name} has no {_ordinal(day)}")


def _year(text: str | None) -> int | None:
    if not text:
        return None
    year = 2000 + int(text[-2:]) if len(text) <= 3 else int(text)
    if not 1 <= year <= 9999:
        raise _Unreadable(f"{year} is not a year I can use")
    return year


def _on_date(day: int, month: int, year: int | None, today: date) -> _Days:
    """A day of a month: that year's, or with no year the next ones (the first still ahead wins)."""
    _check_day(day, month, year)
    if year is not None:
        return _Days((date(year, month, day),))
    years = range(today.year, min(today.year + MAX_YEARS_AHEAD + 1, 9999) + 1)
    return _Days(tuple(date(y, month, day) for y in years
                       if day <= calendar.monthrange(y, month)[1]))


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def add_workdays(start: date, n: int) -> date:
    """The day n working days (Mon–Fri) after start (before it when n is negative)."""
    step = 1 if n >= 0 else -1
    d, left = start, abs(n)
    while left:
        d += timedelta(days=step)
        if d.weekday() < 5:
            left -= 1
    return d


def _amount(m: re.Match[str]) -> int:
    return int(m["n"]) if m["n"] else _NUMBER_WORDS[m["nw"]]


def _unit(text: str) -> tuple[str, int]:
    """(kind, how many of that kind) for a unit word (`weeks` is 7 days)."""
    return _UNITS[re.sub(r"\s+", " ", text)]


def _check_reach(kind: str, count: int) -> None:
    if abs(count) * _ROUGH_DAYS[kind] > (MAX_YEARS_AHEAD + 1) * 366:
        raise _TooFar


def _shift_day(base: date, n: int, unit: str) -> date:
    """`n` days, working days, weeks, months or years after `base` (before it when negative)."""
    kind, per = _unit(unit)
    _check_reach(kind, n * per)
    if kind == "minutes":
        raise _Unreadable()
    if kind == "workdays":
        return add_workdays(base, n * per)
    if kind == "days":
        return base + timedelta(days=n * per)
    return _add_months(base, n * per)


def _add_months(base: date, n: int) -> date:
    """`n` calendar months on (31 Jan + 1 month = 28/29 Feb)."""
    shifted: date = base + relativedelta(months=n)
    return shifted


def _shift_moment(at: datetime, n: int, unit: str, zone: tzinfo) -> datetime:
    """`n` units after the moment `at`: minutes and hours elapse; longer units keep the local time."""
    kind, per = _unit(unit)
    _check_reach(kind, n * per)
    if kind == "minutes":
        return at + timedelta(minutes=n * per)
    local = at.astimezone(zone)
    return at_local(_shift_day(local.date(), n, unit), local.time().replace(tzinfo=None), zone)


def _edge(edge: str, which: str, unit: str, today: date) -> _Days:
    """`end of week|month|year`, `end of next …`, `start of next …`."""
    if unit == "week":
        monday = today - timedelta(days=today.weekday())
        if edge == "end":
            fridays = (monday + timedelta(days=4), monday + timedelta(days=11))
            return _Days(fridays[1:] if which == "next" else fridays)
        if which != "next":
            raise _Unreadable()
        return _Days((monday + timedelta(days=7),))
    if unit == "month":
        this = date(today.year, today.month, 1)
        nxt = _add_months(this, 1)
        if edge == "end":
            ends = (_last_day(this.year, this.month), _last_day(nxt.year, nxt.month))
            return _Days(ends[1:] if which == "next" else ends)
        if which != "next":
            raise _Unreadable()
        return _Days((nxt,))
    if edge == "end":
        ends = (date(today.year, 12, 31), date(today.year + 1, 12, 31))
        return _Days(ends[1:] if which == "next" else ends)
    if which != "next":
        raise _Unreadable()
    return _Days((date(today.year + 1, 1, 1),))


# complexity: one branch per date form of the grammar, each a line or two
def _days(d: str, ctx: _Context, has_time: bool) -> _Days | _Exact:  # noqa: C901
    """Read the date words (the time of day, if any, already taken off)."""
    today = ctx.today
    if d == "":
        if not has_time:
            raise _Unreadable()
        return _Days((today, today + timedelta(days=1)))  # the next such time
    if d == "this":
        if not has_time:
            raise _Unreadable()
        return _Days((today,))
    if d in _TODAYISH:
        return _Days((today + timedelta(days=_TODAYISH[d]),),
                     default=EVENING if d == "tonight" else None)

    m = _WEEKDAY.match(d)
    if m:
        wd = _WEEKDAYS[m["wd"]]
        monday = today - timedelta(days=today.weekday())
        if m["pre"] == "next" or m["post"] == "next":
            return _Days((monday + timedelta(days=7 + wd),))
        if m["post"] == "this":
            return _Days((monday + timedelta(days=wd),))
        first = today + timedelta(days=(wd - today.weekday()) % 7)
        return _Days((first, first + timedelta(days=7)))

    m = _WEEKDAY_PREFIX.match(d)
    if m and any(p.match(m["rest"]) for p in _DATES):  # `Fri 4 Dec`, `Friday the 13th`
        inner = _days(m["rest"], ctx, has_time)
        assert isinstance(inner, _Days)
        return _Days(inner.candidates, inner.default, weekday=_WEEKDAYS[m["wd"]])

    m = _ISO.match(d)
    if m:
        year, month, day = int(m["y"]), int(m["m"]), int(m["d"])
        _check_day(day, month, _year(m["y"]))
        return _Days((date(year, month, day),))

    m = _NUMERIC.match(d)
    if m:
        day, month = int(m["d"]), int(m["m"])
        if month > 12 or month < 1:
            if m["s"] == "." and not m["y"] and day <= 23 and month <= 59:
                raise _Unreadable(f"there is no month {month}; for a time of day write "
                                  f"`{day}:{month:02d}` or `today {day}:{month:02d}`")
            raise _Unreadable(f"there is no month {month}: I read dates as day/month, "
                              f"so `15/12` is 15 December")
        return _on_date(day, month, _year(m["y"]), today)

    m = _DAY_MONTH.match(d) or _MONTH_DAY.match(d)
    if m:
        month = _MONTHS[m["mon"].rstrip(".")]
        return _on_date(int(m["d"]), month, _year(m["y"]), today)

    m = _DAY_OF_MONTH.match(d)
    if m:
        day = int(m["d"])
        if not 1 <= day <= 31:
            raise _Unreadable(f"no month has a {_ordinal(day)}")
        first = date(today.year, today.month, 1)
        months = (_add_months(first, k) for k in range(13))
        return _Days(tuple(date(f.year, f.month, day) for f in months
                           if day <= calendar.monthrange(f.year, f.month)[1]))

    m = _RELATIVE.match(d)
    if m:
        if _unit(m["unit"])[0] == "minutes":  # elapsed time, to the minute
            at = _shift_moment(ctx.now, _amount(m), m["unit"], ctx.zone)
            return _Exact(at.replace(second=0, microsecond=0))
        return _Days((_shift_day(today, _amount(m), m["unit"]),))
    if _HALF_HOUR.match(d):
        return _Exact((ctx.now + timedelta(minutes=30)).replace(second=0, microsecond=0))

    m = _NEXT.match(d)
    if m:
        return _Days((_shift_day(today, 1, m["unit"]),))

    m = _EDGE.match(d)
    if m or d in _EDGE_SHORT:
        if m:
            edge, which, unit = m["edge"], (m["which"] or "").strip(), m["unit"]
        else:
            (edge, unit), which = _EDGE_SHORT[d], ""
        return _edge("start" if edge == "beginning" else edge, which, unit, today)

    m = _EDGE_MONTH.match(d)
    if m:
        month = _MONTHS[m["mon"].rstrip(".")]
        given = _year(m["y"])
        years = [given] if given else [today.year, today.year + 1]
        if m["edge"] == "end":
            return _Days(tuple(_last_day(y, month) for y in years))
        return _Days(tuple(date(y, month, 1) for y in years))

    if _SESSION_ONLY.match(d) or _BEFORE_SESSION.match(d):
        if ctx.session_at is None:
            raise _Refused("The session date is not configured yet, so I can't use it as a "
                           f"deadline. Give a date instead, e.g. {EXAMPLES}.")
        session = as_utc(ctx.session_at)
        m = _BEFORE_SESSION.match(d)
        if not m:
            return _Exact(session)
        n, unit = (_amount(m), m["unit"]) if m["unit"] else (1, "day")
        return _Exact(_shift_moment(session, -n, unit, ctx.zone))

    raise _Unreadable()


def at_local(day: date, clock: time, tz: tzinfo) -> datetime:
    """Local time `clock` on `day` in tz as an aware UTC moment: a time in a DST gap moves forward
    by the gap's length, one that happens twice is the first (fold=0). Past the year 9999 it
    raises OverflowError (which parse_due answers as a date it could not read)."""
    return datetime.combine(day, clock).replace(tzinfo=tz, fold=0).astimezone(UTC)


def _understand(words: str, *, now: datetime, tz: ZoneInfo, session_at: datetime | None,
                workday_end: time) -> tuple[datetime, bool]:
    """(the moment in UTC, whether it is date-only); raises _Unreadable / _Refused / _TooFar."""
    s = _normalise(words)
    if not s:
        raise _Refused(f"I need a date for the deadline. Try {EXAMPLES}.")
    s, zone = _split_zone(s)
    zone = zone or tz
    s = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", s)  # end-of-month
    date_words, clock = _split_time(s)
    has_time = clock is not _NO_TIME
    ctx = _Context(now=now, today=now.astimezone(zone).date(), zone=zone, session_at=session_at)
    spec = _days(date_words, ctx, has_time)
    horizon = _add_months(ctx.today, 12 * MAX_YEARS_AHEAD)
    if isinstance(spec, _Exact):
        if has_time:
            raise _Unreadable()
        if spec.at.astimezone(zone).date() > horizon:
            raise _TooFar
        return spec.at, False
    if not has_time:
        at_time, date_only = spec.default or workday_end, spec.default is None
    elif isinstance(clock, time):
        at_time, date_only = clock, False
    else:  # `eod`, `end of day`
        at_time, date_only = workday_end, True
    day, at = _first_ahead(spec.candidates, at_time, zone, now, horizon)
    if spec.weekday is not None and day.weekday() != spec.weekday:
        raise _Unreadable(f"{day.day} {_MONTH_NAMES[day.month - 1][:3]} {day.year} is a "
                          f"{_WEEKDAY_NAMES[day.weekday()]}, not a {_WEEKDAY_NAMES[spec.weekday]}")
    return at, date_only


def _first_ahead(candidates: tuple[date, ...], at_time: time, zone: tzinfo, now: datetime,
                 horizon: date) -> tuple[date, datetime]:
    """The first candidate day whose moment is after `now`, or else the first one (in the past)."""
    for day in candidates:
        if day > horizon:
            break
        at = at_local(day, at_time, zone)
        if at > now:
            return day, at
    if not candidates:
        raise _Unreadable()
    if candidates[0] > horizon:
        raise _TooFar
    return candidates[0], at_local(candidates[0], at_time, zone)


def _echo(words: str) -> str:
    """The user's words, safe inside *bold* Slack mrkdwn and short enough for a modal."""
    text = re.sub(r"[*_~`]", "", re.sub(r"\s+", " ", words)).strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text if len(text) <= 40 else text[:39].rstrip() + "…"


def parse_due(words: str, *, now: datetime, tz: ZoneInfo, session_at: datetime | None = None,
              workday_end: time = time(17, 0), allow_past: bool = False) -> DueDate | DateProblem:
    """Read a deadline typed by a person (see the module docstring for the rules); never raises."""
    typed = words.strip() if isinstance(words, str) else ""
    if len(typed) > MAX_WORDS:
        return DateProblem(typed, f"That is too long for a date ({len(typed)} characters; I read "
                                  f"up to {MAX_WORDS}). Try {EXAMPLES}.")
    now = as_utc(now)
    try:
        at, date_only = _understand(typed, now=now, tz=tz, session_at=session_at,
                                    workday_end=workday_end.replace(tzinfo=None))
    except _Refused as refused:
        return DateProblem(typed, refused.message)
    except _AmbiguousHour as ambiguous:
        n = ambiguous.hour
        hint = (f"Write `{n + 12}:00` or `{n}pm`, or `{n:02d}:00` for the morning" if 1 <= n <= 11
                else "Write `12:00` or `noon`, or `midnight`" if n == 12
                else "Write the time like `17:00` or `5pm`")
        return DateProblem(typed, f"I couldn't tell which time of day *{_echo(typed)}* means. "
                                  f"{hint}.")
    except _TooFar:
        return DateProblem(typed, f"*{_echo(typed)}* is more than {MAX_YEARS_AHEAD} years away. "
                                  f"Check the year or the number, or try {EXAMPLES}.")
    except _Unreadable as unreadable:
        why = f": {unreadable.why}" if unreadable.why else ""
        return DateProblem(typed, f"I couldn't read *{_echo(typed)}* as a date{why}. Try {EXAMPLES}.")
    except Exception:
        return DateProblem(typed, f"I couldn't read *{_echo(typed)}* as a date. Try {EXAMPLES}.")
    if at <= now and not allow_past:
        return DateProblem(typed, f"I read *{_echo(typed)}* as {format_moment(at, tz)}, which is "
                                  f"in the past. Try a later date, e.g. {FUTURE_EXAMPLES}.")
    return DueDate(at=at, local=at.astimezone(tz), words=typed, date_only=date_only)
