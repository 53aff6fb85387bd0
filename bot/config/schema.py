"""The one schema for both config files: pydantic models, plain-English errors, and the typed Config.

Every validator here speaks to an admin, not a programmer: a failure is an ``Issue`` (a path into
the YAML data and a message such as ``'7 days' is not a duration; write it like 7d``). The loader
(``bot.config.load``) adds the file name, line and column.
"""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import croniter
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.config.tokens import redact
from bot.config.types import (
    DEFAULT_MESSAGES_PER_MINUTE,
    Channels,
    Config,
    Delegation,
    Digest,
    Limits,
    Person,
    QuietHours,
    Reminders,
    SpecialSession,
)
from bot.config.knowledge import (
    Context,
    KeyArea,
    KnowledgeBase,
    Recommendation,
    SecurityAspect,
)
from bot.moments import format_duration

PathPart = str | int
Path_ = tuple[PathPart, ...]
Anchor = Literal["value", "key", "parent"]

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


@dataclass(frozen=True)
class Issue:
    """One thing wrong (or worth a warning) at a path in a file's data."""

    path: Path_
    message: str
    anchor: Anchor = "value"  # where to point: the value, the key itself, or the parent's key
    severity: Literal["error", "warning"] = "error"


def dotted(path: Sequence[PathPart]) -> str:
    """A path as admins read it: ``reminders.session[2]``, ``admins[0].id``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif part is None:
            out += ".(no name)" if out else "(no name)"
        else:
            out += f".{part}" if out else str(part)
    return out


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


def _fail(message: str, *at: PathPart) -> PydanticCustomError:
    """A validation failure whose message goes to the admin as written (``at`` goes deeper)."""
    return PydanticCustomError("wgbot", "{message}", {"message": message, "at": tuple(at)})


def _wrong(what: str, value: Any) -> PydanticCustomError:
    """The value has the wrong shape."""
    if value is None:
        return _fail(f"no value given; expected {what}")
    return _fail(f"expected {what}, got {kind_of(value)}")


# ---------------------------------------------------------------- scalar types


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _wrong("text", value)
    text = str(value).strip()
    if not text:
        raise _fail("must not be empty")
    return text


Text = Annotated[str, BeforeValidator(_text)]


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
        raise _wrong("a duration like 7d", value)
    text = str(value).strip()
    m = DURATION_RE.fullmatch(text)
    if not m:
        raise _fail(f"{shown(text)} is not a duration; write it like {_suggest_duration(text)}")
    n, unit = int(m.group(1)), m.group(2)
    if n == 0:
        raise _fail(f"{shown(text)} must be longer than zero")
    seconds = n * {"d": 86400, "h": 3600, "m": 60, "s": 1}[unit]
    if seconds > MAX_DURATION.total_seconds():
        raise _fail(f"{shown(text)} is too long; the longest allowed is "
                    f"{format_duration(MAX_DURATION)}")
    return timedelta(seconds=seconds)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _duration_list(value: Any) -> Any:
    if not isinstance(value, list):
        raise _wrong("a list of durations", value)
    return value


def _distinct_longest_first(values: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    seen: dict[timedelta, int] = {}
    for i, d in enumerate(values):
        if d in seen:
            raise _fail(f"{shown(format_duration(d))} is listed twice; list each duration once", i)
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
        raise _wrong("an IANA timezone name like Europe/Vienna", value)
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
        raise _fail(f"{shown(name)} is not a known IANA timezone; {hint}")
    return zone


TimeZone = Annotated[ZoneInfo, BeforeValidator(parse_timezone)]


def parse_local_datetime(value: Any) -> datetime:
    """``YYYY-MM-DDTHH:MM`` as a naive datetime (read later in the config's timezone)."""
    example = "2027-03-04T10:00"
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value
    if isinstance(value, bool) or not isinstance(value, str):
        raise _wrong(f"a local date and time like {example}", value)
    text = value.strip()
    m = LOCAL_DATETIME_RE.fullmatch(text)
    if not m:
        if DATE_RE.fullmatch(text):
            raise _fail(f"{shown(text)} has no time of day; write it like {text}T10:00")
        raise _fail(f"{shown(text)} is not a date and time; write it like {example}")
    y, mo, d, h, mi = (int(g) for g in m.groups()[:5])
    s = int(m.group(6) or 0)
    try:
        return datetime(y, mo, d, h, mi, s)
    except ValueError:
        raise _fail(f"{shown(text)} is not a real date and time; write it like {example}") from None


LocalDateTime = Annotated[datetime, BeforeValidator(parse_local_datetime)]


def parse_time_of_day(value: Any) -> time:
    """``HH:MM`` as a time."""
    if isinstance(value, time):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise _wrong('a time of day like "17:00"', value)
    text = value.strip()
    m = TIME_RE.fullmatch(text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise _fail(f"{shown(text)} is not a time of day; write it like 17:00")
    return time(int(m.group(1)), int(m.group(2)))


TimeOfDay = Annotated[time, BeforeValidator(parse_time_of_day)]


def _plain_date(value: Any) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, str):
        raise _wrong("a date like 2016-03-04", value)
    text = value.strip()
    m = DATE_RE.fullmatch(text)
    try:
        if not m:
            raise ValueError(text)
        date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise _fail(f"{shown(text)} is not a date; write it like 2016-03-04") from None
    return text


PlainDate = Annotated[str, BeforeValidator(_plain_date)]


def parse_cron(value: Any) -> str:
    """A five-field cron expression (minute hour day month weekday), names like mon allowed."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise _wrong('a cron expression in quotes, like "0 9 * * mon"', value)
    text = " ".join(value.split())
    bad = _fail(f"{shown(text)} is not a valid cron expression ({CRON_FIELDS})")
    if len(text.split(" ")) != 5:
        raise bad
    try:
        if not croniter.is_valid(text):
            raise bad
        croniter(text, datetime(2027, 1, 1)).get_next(datetime)
    except PydanticCustomError:
        raise
    except Exception:
        raise _fail(f"{shown(text)} never happens; pick a schedule that has real dates") from None
    return text


Cron = Annotated[str, BeforeValidator(parse_cron)]


def _whole_number(minimum: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not value.is_integer()):
            raise _wrong("a whole number", value)
        if value < minimum:
            raise _fail(f"must be {minimum} or more, got {value:g}")
        return int(value)
    return check


OverdueMax = Annotated[int, BeforeValidator(_whole_number(0))]


def _poll_seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise _wrong("a number of seconds", value)
    if value < 1:
        raise _fail(f"must be at least 1 second, got {value:g}")
    if value > 86400:
        raise _fail(f"must be at most 86400 seconds (a day), got {value:g}")
    return float(value)


PollSeconds = Annotated[float, BeforeValidator(_poll_seconds)]
MAX_MESSAGES_PER_MINUTE = 6000


def _messages_per_minute(value: Any) -> int:
    n = _whole_number(1)(value)
    if n > MAX_MESSAGES_PER_MINUTE:
        raise _fail(f"must be at most {MAX_MESSAGES_PER_MINUTE} (100 a second), got {n}")
    return n


MessagesPerMinute = Annotated[int, BeforeValidator(_messages_per_minute)]


def _user_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str):
        raise _wrong("a Slack member id like U0123ABCD", value)
    text = value.strip()
    if not USER_ID_RE.fullmatch(text):
        raise _fail(f"{shown(text)} is not a Slack member id; it looks like U0123ABCD "
                    "(profile → ⋮ → Copy member ID)")
    return text


UserId = Annotated[str, BeforeValidator(_user_id)]


def _channel_id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        raise _wrong("a Slack channel id like C0123ABCD", value)
    text = value.strip()
    if not CHANNEL_ID_RE.fullmatch(text):
        raise _fail(f"{shown(text)} is not a Slack channel id; it looks like C0123ABCD "
                    "(channel details → the id at the bottom)")
    return text


ChannelId = Annotated[str | None, BeforeValidator(_channel_id)]


def _list_of(what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, list):
            raise _wrong(what, value)
        return value
    return check


TextList = Annotated[tuple[Text, ...], BeforeValidator(_list_of("a list of words"))]


def _rec_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str):
        raise _wrong("a recommendation id like S1 or L1", value)
    text = value.strip()
    if not REC_ID_RE.fullmatch(text):
        raise _fail(f"{shown(text)} is not a recommendation id; write S1, S2… for the short "
                    "term or L1, L2… for the long term")
    return text


def _prefixed_id(pattern: re.Pattern[str], what: str, example: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str):
            raise _wrong(f"{what} id like {example}", value)
        text = value.strip()
        if not pattern.fullmatch(text):
            raise _fail(f"{shown(text)} is not {what} id; write it like {example}")
        return text
    return check


RecId = Annotated[str, BeforeValidator(_rec_id)]
AreaId = Annotated[str, BeforeValidator(_prefixed_id(AREA_ID_RE, "a key area", "K1"))]
AspectId = Annotated[str, BeforeValidator(_prefixed_id(ASPECT_ID_RE, "a security aspect", "A1"))]
AreaRefs = Annotated[tuple[AreaId, ...], BeforeValidator(_list_of("a list of key area ids"))]
RecRefs = Annotated[tuple[RecId, ...], BeforeValidator(_list_of("a list of recommendation ids"))]


# ---------------------------------------------------------------- models


class _Model(BaseModel):
    """A mapping in a config file: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    what: ClassVar[str] = "a mapping (key: value lines)"

    @model_validator(mode="before")
    @classmethod
    def _is_mapping(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise _wrong(cls.what, data)
        return data


class SessionModel(_Model):
    """``session``: the special session of the Permanent Council."""

    what: ClassVar[str] = "the session's title, starts_at and place"
    title: Text
    starts_at: LocalDateTime
    place: Text


class ChannelsModel(_Model):
    """``channels``: Slack channel ids, each optional."""

    what: ClassVar[str] = "the channels (working_group, coordinators)"
    working_group: ChannelId = None
    coordinators: ChannelId = None


class PersonModel(_Model):
    """An admin or coordinator."""

    what: ClassVar[str] = "a person with an id and a name"
    id: UserId
    name: Text


def _people(role: str, *, required: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, list):
            raise _wrong(f"a list of {role}s (each with an id and a name)", value)
        if required and not value:
            raise _fail(f"at least one {role} is required; a config with no {role} is refused")
        return value
    return check


def _distinct_people(role: str) -> Callable[[tuple[PersonModel, ...]], tuple[PersonModel, ...]]:
    def check(people: tuple[PersonModel, ...]) -> tuple[PersonModel, ...]:
        seen: set[str] = set()
        for i, p in enumerate(people):
            if p.id in seen:
                raise _fail(f"{p.id} is listed twice under {role}s", i, "id")
            seen.add(p.id)
        return people
    return check


Admins = Annotated[tuple[PersonModel, ...], BeforeValidator(_people("admin", required=True)),
                   AfterValidator(_distinct_people("admin"))]
Coordinators = Annotated[tuple[PersonModel, ...],
                         BeforeValidator(_people("coordinator", required=False)),
                         AfterValidator(_distinct_people("coordinator"))]

UserIds = Annotated[tuple[UserId, ...], BeforeValidator(_list_of("a list of Slack member ids"))]
MAX_DELEGATION_NAME = 120


def _delegation_name(value: Any) -> str:
    name = _text(value)
    if len(name) > MAX_DELEGATION_NAME:
        raise _fail(f"{shown(name[:40] + '…')} is too long for a delegation name; "
                    f"keep it under {MAX_DELEGATION_NAME} characters")
    return name


class DelegationModel(_Model):
    """One delegation: a participating State, a Partner for Co-operation, or an OSCE structure."""

    what: ClassVar[str] = "a delegation with a name and its members"
    name: Annotated[str, BeforeValidator(_delegation_name)]
    members: UserIds = ()


def _distinct_delegations(items: tuple[DelegationModel, ...]) -> tuple[DelegationModel, ...]:
    names: dict[str, int] = {}
    members: dict[str, int] = {}
    for i, d in enumerate(items):
        key = d.name.casefold()
        if key in names:
            raise _fail(f"{shown(d.name)} is listed twice (first at delegations[{names[key]}]); "
                        "list each delegation once", i, "name")
        names[key] = i
        for j, uid in enumerate(d.members):
            if uid in members:
                first = items[members[uid]].name
                raise _fail(f"{uid} is already a member of {shown(first)}; a member acts for one "
                            "delegation", i, "members", j)
            members[uid] = i
    return items


Delegations = Annotated[tuple[DelegationModel, ...],
                        BeforeValidator(_list_of("a list of delegations (each with a name and "
                                                 "members)")),
                        AfterValidator(_distinct_delegations)]

DEFAULT_SESSION_REMINDERS = (*tuple(timedelta(days=d) for d in (30, 14, 7, 1)), timedelta(hours=2))
DEFAULT_DEADLINE_REMINDERS = (timedelta(days=7), timedelta(days=1), timedelta(hours=2))


class RemindersModel(_Model):
    """``reminders``: offsets before the session and before deadlines; overdue nudges."""

    what: ClassVar[str] = "the reminders (session, deadline, overdue_max)"
    session: DurationList = DEFAULT_SESSION_REMINDERS
    deadline: DurationList = DEFAULT_DEADLINE_REMINDERS
    overdue_max: OverdueMax = 3


class DigestModel(_Model):
    """``digest``: the coordinator digest schedule."""

    what: ClassVar[str] = "the digest (cron, before_session)"
    cron: Cron = "0 9 * * mon"
    before_session: Duration = timedelta(days=3)


class QuietHoursModel(_Model):
    """``quiet_hours``: no DMs between start and end."""

    what: ClassVar[str] = 'quiet hours with start and end (like "20:00"), or null'
    start: TimeOfDay
    end: TimeOfDay

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHoursModel:
        if self.start == self.end:
            raise _fail(f"start and end are both {self.start:%H:%M}, so quiet hours would never "
                        "apply; write quiet_hours: null to turn them off", "end")
        return self


class SchedulerModel(_Model):
    """``scheduler``: how often the bot looks for due reminders and config edits."""

    what: ClassVar[str] = "the scheduler (poll_seconds, messages_per_minute)"
    poll_seconds: PollSeconds = 30.0
    messages_per_minute: MessagesPerMinute = DEFAULT_MESSAGES_PER_MINUTE


def _notice_batch(value: timedelta) -> timedelta:
    if value > timedelta(hours=1):
        raise _fail(f"{shown(format_duration(value))} is too long; owners would hear of "
                    "changes to their commitments too late. The longest allowed is 1h")
    return value


class LimitsModel(_Model):
    """``limits``: how much one member may do, so nobody floods the bot or another member."""

    what: ClassVar[str] = "the limits (writes_per_minute, notice_batch)"
    writes_per_minute: Annotated[int, BeforeValidator(_whole_number(1))] = Limits.writes_per_minute
    notice_batch: Annotated[Duration, AfterValidator(_notice_batch)] = Limits.notice_batch


class SettingsModel(_Model):
    """The whole of settings.yaml."""

    what: ClassVar[str] = "settings written as key: value lines"
    timezone: TimeZone = ZoneInfo(DEFAULT_TIMEZONE)
    session: SessionModel
    channels: ChannelsModel = ChannelsModel()
    admins: Admins
    coordinators: Coordinators = ()
    reminders: RemindersModel = RemindersModel()
    digest: DigestModel = DigestModel()
    quiet_hours: QuietHoursModel | None = QuietHoursModel(start=time(20, 0), end=time(8, 0))
    workday_end: TimeOfDay = time(17, 0)
    scheduler: SchedulerModel = SchedulerModel()
    limits: LimitsModel = LimitsModel()
    delegations: Delegations = ()

    @model_validator(mode="after")
    def _session_exists_on_the_clock(self) -> SettingsModel:
        local = self.session.starts_at
        if local.tzinfo is None:
            there = local.replace(tzinfo=self.timezone)
            back = there.astimezone(UTC).astimezone(self.timezone).replace(tzinfo=None)
            if back != local:
                raise _fail(f"{local:%Y-%m-%dT%H:%M} does not exist in {self.timezone.key} (the "
                            "clocks go forward that night); pick another time",
                            "session", "starts_at")
        return self


class ContextModel(_Model):
    """``context``: where the recommendations come from."""

    what: ClassVar[str] = "the report's context"
    conference: Text
    place: Text
    date: PlainDate
    report_title: Text
    working_group: Text
    special_session: Text


class KeyAreaModel(_Model):
    """One key area (K1–K5)."""

    what: ClassVar[str] = "a key area with an id, title and text"
    id: AreaId
    title: Text
    text: Text


class SecurityAspectModel(_Model):
    """One security aspect (A1–A3)."""

    what: ClassVar[str] = "a security aspect with an id, title and text"
    id: AspectId
    title: Text
    text: Text
    recommendations: RecRefs = ()


class RecommendationModel(_Model):
    """One recommendation (S1–S6, L1–L10)."""

    what: ClassVar[str] = "a recommendation with an id, title, summary and text"
    id: RecId
    title: Text
    summary: Text
    text: Text
    areas: AreaRefs = ()
    keywords: TextList = ()


class RecommendationsModel(_Model):
    """The whole of recommendations.yaml."""

    what: ClassVar[str] = "the knowledge base written as key: value lines"
    context: ContextModel
    key_areas: Annotated[tuple[KeyAreaModel, ...], BeforeValidator(_list_of("a list of key areas"))]
    security_aspects: Annotated[tuple[SecurityAspectModel, ...],
                                BeforeValidator(_list_of("a list of security aspects"))] = ()
    structural_drivers: Annotated[tuple[Text, ...],
                                  BeforeValidator(_list_of("a list of drivers"))] = ()
    recommendations: Annotated[tuple[RecommendationModel, ...],
                               BeforeValidator(_list_of("a list of recommendations"))]


# ---------------------------------------------------------------- errors → issues


def _model_in(annotation: Any) -> type[_Model] | None:
    """The first config model class inside a (possibly Annotated/Optional/tuple) annotation."""
    if isinstance(annotation, type) and issubclass(annotation, _Model):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) is not None else ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(root: type[_Model], path: Sequence[PathPart]) -> type[_Model] | None:
    """The model class that validates the mapping at path, if known."""
    model: type[_Model] | None = root
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _model_in(field.annotation)
    return model


def _data_path(data: Any, loc: Sequence[PathPart]) -> Path_:
    """Pydantic's loc reduced to the parts that really step into the YAML data."""
    out: list[PathPart] = []
    cur = data
    for i, part in enumerate(loc):
        steps_in = (part in cur) if isinstance(cur, dict) else (
            isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur))
        if steps_in:
            out.append(part)
            cur = cur[part]
        elif i == len(loc) - 1 and isinstance(cur, dict) and isinstance(part, str):
            out.append(part)  # a missing key
            cur = None
        else:
            cur = None
    return tuple(out)


def _guess_key(key: Any, model: type[_Model] | None) -> str | None:
    fields = list(model.model_fields) if model is not None else []
    return close_match(str(key), fields, cutoff=0.6) if fields else None


def _actual_key(data: Any, parent: Path_, shown_as: Any) -> Any:
    """The real (non-string) key that pydantic reports as text."""
    cur = data
    for part in parent:
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            return shown_as
    if isinstance(cur, dict):
        for k in cur:
            if k == shown_as or str(k) == str(shown_as):
                return k
    return shown_as


def _unknown_key(key: Any, model: type[_Model] | None) -> str:
    fields = list(model.model_fields) if model is not None else []
    guess = _guess_key(key, model)
    if guess:
        return f"unknown key {shown(key)}; did you mean {shown(guess)}?"
    if len(fields) == 1:
        return f"unknown key {shown(key)}; the only key allowed here is {shown(fields[0])}"
    if fields:
        return f"unknown key {shown(key)}; expected one of: {', '.join(fields)}"
    return f"unknown key {shown(key)}"


def issues_from(error: ValidationError, data: Any, root: type[_Model]) -> list[Issue]:
    """Pydantic's errors as plain-English issues with paths into the data.

    A missing key is not reported when a misspelling of it is (``sesion`` explains ``session``).
    """
    out: list[Issue] = []
    errors = error.errors(include_url=False)
    misspelt = set()
    for e in errors:
        loc = tuple(e.get("loc", ()))
        if e.get("type") == "extra_forbidden" and loc:
            guess = _guess_key(loc[-1], _model_at(root, loc[:-1]))
            if guess is not None:
                misspelt.add((*loc[:-1], guess))
    for e in errors:
        loc = tuple(e.get("loc", ()))
        kind = e.get("type", "")
        ctx = e.get("ctx") or {}
        if kind == "wgbot":
            path = _data_path(data, loc + tuple(ctx.get("at", ())))
            out.append(Issue(path, str(ctx.get("message", ""))))
        elif kind == "missing":
            if loc in misspelt:
                continue
            path = _data_path(data, loc)
            out.append(Issue(path, f"missing key {shown(loc[-1] if loc else '')}", "parent"))
        elif kind == "extra_forbidden":
            path = _data_path(data, loc)
            out.append(Issue(path, _unknown_key(loc[-1] if loc else "", _model_at(root, loc[:-1])),
                             "key"))
        elif kind == "invalid_key":
            parent = _data_path(data, loc[:-1])
            key = _actual_key(data, parent, loc[-1] if loc else None)
            message = ("this key has no name" if key is None
                       else _unknown_key(key, _model_at(root, loc[:-1])))
            out.append(Issue((*parent, key), message, "key"))
        elif kind == "recursion_loop":
            out.append(Issue(_data_path(data, loc), "refers to itself (a YAML alias loop)"))
        else:
            value = e.get("input")
            out.append(Issue(_data_path(data, loc),
                             f"{shown(value) if not isinstance(value, (dict, list)) else 'this'} "
                             "is not accepted here"))
    return out


def _top_level_mapping(data: Any, what: str) -> list[Issue]:
    if isinstance(data, dict):
        return []
    return [Issue((), f"expected {what}, got {kind_of(data)}")]


def _check_unique(items: Any, list_key: str, what: str) -> list[Issue]:
    """Each repeated id in data[list_key] is an issue at its second (third, …) use."""
    out: list[Issue] = []
    if not isinstance(items, list):
        return out
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        ident = item.get("id") if isinstance(item, dict) else None
        if not isinstance(ident, str):
            continue
        ident = ident.strip()
        if ident in first:
            out.append(Issue((list_key, i, "id"),
                             f"{shown(ident)} is used twice (first at {list_key}[{first[ident]}]);"
                             f" each {what} id must be unique"))
        else:
            first[ident] = i
    return out


def cross_check_recommendations(data: Any) -> list[Issue]:
    """Checks across entries: ids unique, areas referring to key areas that exist."""
    if not isinstance(data, dict):
        return []
    out = (_check_unique(data.get("key_areas"), "key_areas", "key area")
           + _check_unique(data.get("security_aspects"), "security_aspects", "security aspect")
           + _check_unique(data.get("recommendations"), "recommendations", "recommendation"))
    areas = data.get("key_areas")
    if not isinstance(areas, list):
        return out
    known = list(dict.fromkeys(a["id"].strip() for a in areas
                               if isinstance(a, dict) and isinstance(a.get("id"), str)))
    recs = data.get("recommendations")
    rec_ids = {r["id"].strip() for r in (recs if isinstance(recs, list) else [])
               if isinstance(r, dict) and isinstance(r.get("id"), str)}
    aspects = data.get("security_aspects")
    for i, aspect in enumerate(aspects if isinstance(aspects, list) else []):
        refs = aspect.get("recommendations") if isinstance(aspect, dict) else None
        for j, ref in enumerate(refs if isinstance(refs, list) else []):
            if isinstance(ref, str) and ref.strip().upper() not in rec_ids:
                out.append(Issue(("security_aspects", i, "recommendations", j),
                                 f"{shown(ref.strip())} is not a recommendation in this file; "
                                 f"use ids like S3 or L7"))
    for i, rec in enumerate(recs if isinstance(recs, list) else []):
        refs = rec.get("areas") if isinstance(rec, dict) else None
        for j, ref in enumerate(refs if isinstance(refs, list) else []):
            if isinstance(ref, str) and AREA_ID_RE.fullmatch(ref.strip()) \
                    and ref.strip() not in known:
                out.append(Issue(("recommendations", i, "areas", j),
                                 f"{shown(ref.strip())} is a key area that does not exist; "
                                 f"use one of {', '.join(known) or 'the key_areas ids'}"))
    return out


def validate_settings(data: Any) -> tuple[SettingsModel | None, list[Issue]]:
    """settings.yaml's data as a model, or the issues that stop it."""
    issues = _top_level_mapping(data, SettingsModel.what)
    if issues:
        return None, issues
    try:
        return SettingsModel.model_validate(data), []
    except ValidationError as e:
        return None, issues_from(e, data, SettingsModel)


def validate_recommendations(data: Any) -> tuple[RecommendationsModel | None, list[Issue]]:
    """recommendations.yaml's data as a model, or the issues that stop it."""
    issues = _top_level_mapping(data, RecommendationsModel.what)
    if issues:
        return None, issues
    cross = cross_check_recommendations(data)
    try:
        model = RecommendationsModel.model_validate(data)
    except ValidationError as e:
        return None, _merge(issues_from(e, data, RecommendationsModel), cross)
    return (None, cross) if cross else (model, [])


def _merge(first: list[Issue], second: list[Issue]) -> list[Issue]:
    """Both lists, without a second issue for a path that already has one."""
    seen = {i.path for i in first}
    return first + [i for i in second if i.path not in seen]


# ---------------------------------------------------------------- models → Config


def _person(p: PersonModel) -> Person:
    return Person(id=p.id, name=p.name)


def knowledge_from(model: RecommendationsModel) -> KnowledgeBase:
    """The knowledge base the bot reads."""
    c = model.context
    return KnowledgeBase(
        context=Context(conference=c.conference, place=c.place, date=c.date,
                        report_title=c.report_title, working_group=c.working_group,
                        special_session=c.special_session),
        key_areas=tuple(KeyArea(id=a.id, number=n, title=a.title, text=a.text)
                        for n, a in enumerate(model.key_areas, start=1)),
        security_aspects=tuple(SecurityAspect(id=a.id, title=a.title, text=a.text,
                                               recommendations=tuple(a.recommendations))
                               for a in model.security_aspects),
        structural_drivers=tuple(model.structural_drivers),
        recommendations=tuple(
            Recommendation(id=r.id, term="short" if r.id.startswith("S") else "long",
                           title=r.title, summary=r.summary, text=r.text, areas=tuple(r.areas),
                           keywords=tuple(r.keywords))
            for r in model.recommendations),
    )


def session_moment(settings: SettingsModel) -> datetime:
    """The session start as an aware datetime in the config timezone."""
    local = settings.session.starts_at
    if local.tzinfo is not None:
        return local.astimezone(settings.timezone)
    return local.replace(tzinfo=settings.timezone)


def build_config(settings: SettingsModel, recommendations: RecommendationsModel) -> Config:
    """The frozen Config from both validated files."""
    s = settings
    return Config(
        timezone=s.timezone,
        session=SpecialSession(title=s.session.title, starts_at=session_moment(s),
                               place=s.session.place),
        channels=Channels(working_group=s.channels.working_group,
                          coordinators=s.channels.coordinators),
        admins=tuple(_person(p) for p in s.admins),
        coordinators=tuple(_person(p) for p in s.coordinators),
        reminders=Reminders(session=tuple(s.reminders.session),
                            deadline=tuple(s.reminders.deadline),
                            overdue_max=s.reminders.overdue_max),
        digest=Digest(cron=s.digest.cron, before_session=s.digest.before_session),
        quiet_hours=(QuietHours(start=s.quiet_hours.start, end=s.quiet_hours.end)
                     if s.quiet_hours is not None else None),
        poll_seconds=s.scheduler.poll_seconds,
        messages_per_minute=s.scheduler.messages_per_minute,
        workday_end=s.workday_end,
        knowledge=knowledge_from(recommendations),
        limits=Limits(writes_per_minute=s.limits.writes_per_minute,
                      notice_batch=s.limits.notice_batch),
        delegations=tuple(Delegation(name=d.name, members=tuple(d.members))
                          for d in s.delegations),
    )
