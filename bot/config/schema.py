"""The schema of both config files: pydantic models of settings.yaml and recommendations.yaml,
and the checks across entries (unique ids, references that exist).

``validate_settings`` and ``validate_recommendations`` return a model or the ``Issue``s that stop
it; the scalar types are in ``bot.config.fields``, the models become the frozen ``Config`` in
``bot.config.build``.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, time, timedelta
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from bot.config.fields import (
    AREA_ID_RE,
    DEFAULT_TIMEZONE,
    AreaId,
    AreaRefs,
    AspectId,
    ChannelId,
    Cron,
    Duration,
    DurationList,
    LocalDateTime,
    MessagesPerMinute,
    OverdueMax,
    PlainDate,
    PollSeconds,
    RecId,
    RecRefs,
    Text,
    TextList,
    TimeOfDay,
    TimeZone,
    UserId,
    fail,
    kind_of,
    list_of,
    plain_text,
    shown,
    whole_number,
    wrong,
)
from bot.config.problems import Issue, issues_from
from bot.config.types import DEFAULT_MESSAGES_PER_MINUTE, Limits
from bot.moments import format_duration

# ---------------------------------------------------------------- models


class _Model(BaseModel):
    """A mapping in a config file: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    what: ClassVar[str] = "a mapping (key: value lines)"

    @model_validator(mode="before")
    @classmethod
    def _is_mapping(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise wrong(cls.what, data)
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
            raise wrong(f"a list of {role}s (each with an id and a name)", value)
        if required and not value:
            raise fail(f"at least one {role} is required; a config with no {role} is refused")
        return value
    return check


def _distinct_people(role: str) -> Callable[[tuple[PersonModel, ...]], tuple[PersonModel, ...]]:
    def check(people: tuple[PersonModel, ...]) -> tuple[PersonModel, ...]:
        seen: set[str] = set()
        for i, p in enumerate(people):
            if p.id in seen:
                raise fail(f"{p.id} is listed twice under {role}s", i, "id")
            seen.add(p.id)
        return people
    return check


Admins = Annotated[tuple[PersonModel, ...], BeforeValidator(_people("admin", required=True)),
                   AfterValidator(_distinct_people("admin"))]
Coordinators = Annotated[tuple[PersonModel, ...],
                         BeforeValidator(_people("coordinator", required=False)),
                         AfterValidator(_distinct_people("coordinator"))]

UserIds = Annotated[tuple[UserId, ...], BeforeValidator(list_of("a list of Slack member ids"))]
MAX_DELEGATION_NAME = 120


def _delegation_name(value: Any) -> str:
    name = plain_text(value)
    if len(name) > MAX_DELEGATION_NAME:
        raise fail(f"{shown(name[:40] + '…')} is too long for a delegation name; "
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
            raise fail(f"{shown(d.name)} is listed twice (first at delegations[{names[key]}]); "
                        "list each delegation once", i, "name")
        names[key] = i
        for j, uid in enumerate(d.members):
            if uid in members:
                first = items[members[uid]].name
                raise fail(f"{uid} is already a member of {shown(first)}; a member acts for one "
                            "delegation", i, "members", j)
            members[uid] = i
    return items


Delegations = Annotated[tuple[DelegationModel, ...],
                        BeforeValidator(list_of("a list of delegations (each with a name and "
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
            raise fail(f"start and end are both {self.start:%H:%M}, so quiet hours would never "
                        "apply; write quiet_hours: null to turn them off", "end")
        return self


class SchedulerModel(_Model):
    """``scheduler``: how often the bot looks for due reminders and config edits."""

    what: ClassVar[str] = "the scheduler (poll_seconds, messages_per_minute)"
    poll_seconds: PollSeconds = 30.0
    messages_per_minute: MessagesPerMinute = DEFAULT_MESSAGES_PER_MINUTE


def _notice_batch(value: timedelta) -> timedelta:
    if value > timedelta(hours=1):
        raise fail(f"{shown(format_duration(value))} is too long; owners would hear of "
                    "changes to their commitments too late. The longest allowed is 1h")
    return value


class LimitsModel(_Model):
    """``limits``: how much one member may do, so nobody floods the bot or another member."""

    what: ClassVar[str] = "the limits (writes_per_minute, notice_batch)"
    writes_per_minute: Annotated[int, BeforeValidator(whole_number(1))] = Limits.writes_per_minute
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
                raise fail(f"{local:%Y-%m-%dT%H:%M} does not exist in {self.timezone.key} (the "
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
    key_areas: Annotated[tuple[KeyAreaModel, ...], BeforeValidator(list_of("a list of key areas"))]
    security_aspects: Annotated[tuple[SecurityAspectModel, ...],
                                BeforeValidator(list_of("a list of security aspects"))] = ()
    structural_drivers: Annotated[tuple[Text, ...],
                                  BeforeValidator(list_of("a list of drivers"))] = ()
    recommendations: Annotated[tuple[RecommendationModel, ...],
                               BeforeValidator(list_of("a list of recommendations"))]


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

