"""The validated models of both files as the frozen ``Config`` the rest of the bot reads."""
from __future__ import annotations

from datetime import datetime

from bot.config.knowledge import Context, KeyArea, KnowledgeBase, Recommendation, SecurityAspect
from bot.config.schema import PersonModel, RecommendationsModel, SettingsModel
from bot.config.types import (
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
