"""`wgbot reminders preview`: the real timeline, each notification as it will read when sent,
and what a restart would send after coalescing."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.scheduling.preview import restart, timeline
from tests.factories import config
from tests.scheduling.test_sweep import World, make_world
from tests.slack_fake.server import FakeSlack

START = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
AT = datetime(2027, 3, 3, 12, 0, tzinfo=UTC)  # the day before the session (Mar 4, 10:00 Vienna)


@contextmanager
def _rolled_back(w: World) -> Iterator[Session]:
    s = w.sessions()
    try:
        yield s
    finally:
        s.rollback()
        s.close()


def _world(engine: Engine, fake: FakeSlack) -> World:
    w = make_world(engine, fake, config(quiet_hours=None), START)
    w.sweep()
    w.commit(datetime(2027, 1, 20, 16, 0, tzinfo=UTC))  # overdue from Wed 20 Jan
    return w


def test_the_timeline_words_each_notification_for_its_own_moment(engine: Engine,
                                                                 fake: FakeSlack) -> None:
    w = _world(engine, fake)
    with _rolled_back(w) as s:
        lines = timeline(s, config=w.config, at=AT, start=w.clock.now())
    countdowns = [ln.split("#C0WG")[1].strip() for ln in lines if " countdown " in ln]
    assert countdowns == [f"{n} to the special session"
                          for n in ("30 days", "14 days", "7 days", "1 day")]
    digests = [ln for ln in lines if " digest " in ln and "@U0COORD" in ln]
    assert "Mon 18 Jan 2027" in digests[2] and digests[2].endswith("0 overdue")
    assert "Mon 25 Jan 2027" in digests[3] and digests[3].endswith("1 overdue")
    nudges = [ln for ln in lines if " overdue " in ln and "@U0OWNER1" in ln]
    assert len(nudges) == w.config.reminders.overdue_max  # one each working day, as when running
    reminders = [ln for ln in lines if " deadline " in ln]
    assert [r.rsplit("due ", 1)[1] for r in reminders] == ["in 7 days", "in 1 day", "in 2 hours"]
    assert w.fake.calls("chat.postMessage") == []
    assert w.deliveries() == []  # nothing was kept


def test_a_restart_preview_shows_what_one_sweep_would_send(engine: Engine,
                                                            fake: FakeSlack) -> None:
    w = _world(engine, fake)
    with _rolled_back(w) as s:
        lines = restart(s, config=w.config, at=AT, start=w.clock.now())
    sent = lines[1:lines.index("and skip, as superseded:")]
    skipped = lines[lines.index("and skip, as superseded:") + 1:]
    assert next(ln for ln in sent if " countdown " in ln).endswith("21 hours to the special session")
    assert len([ln for ln in sent if " countdown " in ln]) == 1
    assert len([ln for ln in sent if " digest " in ln and "@U0COORD" in ln]) == 1
    assert len([ln for ln in sent if " digest " in ln and "#C0CO" in ln]) <= 1  # the summary
    assert len([ln for ln in sent if " overdue " in ln]) == 1
    assert sum("superseded by the 1-day countdown" in ln for ln in skipped) == 3
    # the Mondays from 4 Jan to 22 Feb (the one on 1 Mar, within a day of the digest before the
    # session, is not planned at all)
    assert sum("superseded by the digest before the session" in ln for ln in skipped) == 8
    assert w.deliveries() == []
