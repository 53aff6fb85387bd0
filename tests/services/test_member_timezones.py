"""Members' timezones, read in one query: their own zone, or the default (on a real database)."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.services import members
from bot.store import migrate
from bot.store.db import make_engine, make_session_factory, unit_of_work
from bot.store.models import Member

VIENNA = ZoneInfo("Europe/Vienna")


def test_own_zone_else_the_default(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.bring_up_to_date(engine, database_url)
    sessions = make_session_factory(engine)
    now = datetime(2026, 11, 26, 10, tzinfo=UTC)
    try:
        with unit_of_work(sessions) as s:
            s.add_all([Member(id="U0TOKYO", name="Aiko", tz="Asia/Tokyo", refreshed_at=now),
                       Member(id="U0NONE", name="Noor", tz=None, refreshed_at=now),
                       Member(id="U0BAD", name="Bea", tz="Mars/Olympus", refreshed_at=now),
                       Member(id="U0PATH", name="Pat", tz="../etc/passwd", refreshed_at=now)])
        with unit_of_work(sessions, read_only=True) as s:
            zones = members.timezones(s, ["U0TOKYO", "U0NONE", "U0BAD", "U0PATH", "U0GONE"], VIENNA)
            assert {k: v.key for k, v in zones.items()} == {
                "U0TOKYO": "Asia/Tokyo", "U0NONE": VIENNA.key, "U0BAD": VIENNA.key,
                "U0PATH": VIENNA.key, "U0GONE": VIENNA.key}
            assert members.timezones(s, [], VIENNA) == {}
            for uid, zone in zones.items():
                assert members.timezone_of(s, user_id=uid, default=VIENNA) == zone
    finally:
        engine.dispose()
