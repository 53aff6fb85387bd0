"""Test values built directly from the typed config (no YAML), for domain and service tests."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config.types import (
    Channels,
    Config,
    Digest,
    Person,
    QuietHours,
    Reminders,
    SpecialSession,
)
from bot.config.knowledge import Context, KeyArea, KnowledgeBase, Recommendation, SecurityAspect

VIENNA = ZoneInfo("Europe/Vienna")


def knowledge() -> KnowledgeBase:
    """A small knowledge base shaped like the report's (two short, two long recommendations)."""
    areas = tuple(KeyArea(id=f"K{i}", number=i, title=t, text=t.lower()) for i, t in enumerate(
        ["Solidarity with countries of first asylum", "Protection along migration routes",
         "Combating trafficking and organized crime", "Responsible border management",
         "Relocation and integration"], start=1))
    recs = (
        Recommendation("S1", "short", "A Council decision", "A decision.", "A decision text.",
                       ("K1",), ("decision",)),
        Recommendation("S3", "short", "Border management capacity", "Borders.", "Border text.",
                       ("K4",), ("border",)),
        Recommendation("L6", "long", "Guidelines for migration management", "Guidelines.",
                       "Guidelines text.", ("K5",), ("guidelines",)),
        Recommendation("L9", "long", "Youth-oriented policies", "Youth.", "Youth text.",
                       ("K5",), ("youth",)),
    )
    ctx = Context(conference="OSCE Security Days", place="Rome", date="2016-03-04",
                  report_title="Refocusing Migration and Security", working_group="WG.",
                  special_session="Special session.")
    return KnowledgeBase(context=ctx, key_areas=areas,
                         security_aspects=(SecurityAspect("A1", "Protect", "protecting"),),
                         structural_drivers=("conflict",), recommendations=recs)


def config(**overrides: Any) -> Config:
    """A complete Config; keyword arguments replace top-level fields."""
    base = Config(
        timezone=VIENNA,
        session=SpecialSession(title="Special session on migration",
                               starts_at=datetime(2027, 3, 4, 10, 0, tzinfo=VIENNA),
                               place="Hofburg, Vienna"),
        channels=Channels(working_group="C0WG", coordinators="C0CO"),
        admins=(Person("U0ADMIN", "Admin"),),
        coordinators=(Person("U0COORD", "Coordinator"),),
        reminders=Reminders(session=(*tuple(timedelta(days=d) for d in (30, 14, 7, 1)), timedelta(hours=2)),
                            deadline=(timedelta(days=7), timedelta(days=1), timedelta(hours=2)),
                            overdue_max=3),
        digest=Digest(cron="0 9 * * mon", before_session=timedelta(days=3)),
        quiet_hours=QuietHours(start=time(20, 0), end=time(8, 0)),
        poll_seconds=30.0,
        workday_end=time(17, 0),
        knowledge=knowledge(),
    )
    return replace(base, **overrides)
