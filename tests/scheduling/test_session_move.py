"""Moving the session re-plans every countdown and the digest before it, and the admins hear the truth."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.config.live import ReloadResult
from bot.config.report import affects_reminders, changes
from bot.config.types import Config
from bot.operations import RunningOperations
from bot.store.models import Delivery
from tests.factories import VIENNA, config
from tests.scheduling.test_sweep import World, make_world
from tests.slack_fake.server import FakeSlack

START = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
SESSION = datetime(2027, 3, 4, 9, 0, tzinfo=UTC)  # 10:00 Vienna, the factory's session


class Editable:
    """The config in force, which the test edits (as an admin edits settings.yaml)."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def current(self) -> Config:
        return self.config


def _move(w: World, source: Editable, ops: RunningOperations, starts_at: datetime) -> None:
    old = source.config
    new = replace(old, session=replace(old.session, starts_at=starts_at.astimezone(VIENNA)))
    source.config = new
    ops.after_reload(ReloadResult(applied=True, changed=True, changes=tuple(changes(old, new)),
                                  replan=affects_reminders(old, new), fingerprint=str(starts_at),
                                  old=old, new=new, announce=True))


def _setup(engine: Engine, fake: FakeSlack) -> tuple[World, Editable, RunningOperations]:
    w = make_world(engine, fake, config(quiet_hours=None), START)
    source = Editable(w.config)
    w.sweeper._config = source
    ops = RunningOperations(config=source, sessions=w.sessions, clock=w.clock,  # type: ignore[arg-type]
                            notifier=w.sweeper._notifier)
    w.sweep()
    return w, source, ops


def _heads(w: World) -> list[str]:
    return [str(p["blocks"][0]["text"]["text"]) for p in w.posts("C0WG")]


def test_moving_the_session_earlier_keeps_the_countdown_it_owed(engine: Engine,
                                                                fake: FakeSlack) -> None:
    w, source, ops = _setup(engine, fake)
    w.at(SESSION - timedelta(days=2))  # the countdowns (coalesced) and the digest before it went out
    assert _heads(w) == ["⏳ 2 days to the special session"]
    digests = len(w.posts("U0COORD"))
    # moved 27 h 59 min 30 s earlier: the 1-day moment is now in the past, the session is not
    new_start = w.clock.now() + timedelta(hours=20, seconds=30)
    _move(w, source, ops, new_start)
    dm = w.posts("U0ADMIN")[-1]["text"]
    assert "session moved from Thu 4 Mar 2027, 10:00:00 to Wed 3 Mar 2027, 06:00:30" in dm
    assert "the 1-day countdown for the new date was already due, so it goes out now" in dm
    assert "re-planned" not in dm
    w.sweep()
    assert _heads(w)[1:] == ["⏳ 20 hours to the special session"]  # true when it is sent
    w.at(new_start - timedelta(hours=2) + timedelta(seconds=1))
    w.at(new_start + timedelta(minutes=1))
    assert _heads(w)[1:] == ["⏳ 20 hours to the special session",
                             "⏳ 2 hours to the special session"]
    assert len(w.posts("U0COORD")) == digests  # its digest before the session had gone out


def test_moving_the_session_earlier_past_its_digest_sends_that_digest(engine: Engine,
                                                                      fake: FakeSlack) -> None:
    w, source, ops = _setup(engine, fake)
    w.at(SESSION - timedelta(days=5))  # the digest before the session (3 days) is still ahead
    before = len(w.posts("U0COORD"))
    _move(w, source, ops, w.clock.now() + timedelta(days=2))
    dm = w.posts("U0ADMIN")[-1]["text"]
    assert "the digest before the session was already due for the new date" in dm
    w.sweep()
    new = w.posts("U0COORD")[before:]
    assert len(new) == 1 and "Digest before the session" in new[0]["text"]


def test_a_pending_countdown_for_the_old_date_is_skipped_and_said_so(engine: Engine,
                                                                     fake: FakeSlack) -> None:
    w, source, ops = _setup(engine, fake)
    w.at(SESSION - timedelta(days=2))
    fake.fail("chat.postMessage", error="fatal_error", times=1)  # the 1-day countdown must wait
    w.at(SESSION - timedelta(days=1) + timedelta(seconds=1))
    pending = [d for d in w.deliveries("countdown") if d.status == "pending"]
    assert len(pending) == 1
    _move(w, source, ops, w.clock.now() + timedelta(hours=12))
    dm = w.posts("U0ADMIN")[-1]["text"]
    assert "1 pending notification skipped (no longer applies)" in dm
    assert "the 1-day countdown for the new date was already due" in dm
    w.sweep()
    assert _heads(w)[-1] == "⏳ 12 hours to the special session"
    statuses = {(d.subject.partition("@")[2], d.status) for d in w.deliveries("countdown")
                if d.id == pending[0].id}
    assert statuses == {("2027-03-04T09:00:00Z", "skipped")}


def test_the_change_shows_seconds_when_only_seconds_differ() -> None:
    old = config()
    new = replace(old, session=replace(old.session,
                                       starts_at=old.session.starts_at + timedelta(seconds=20)))
    assert changes(old, new) == ["session moved from Thu 4 Mar 2027, 10:00:00 to "
                                 "Thu 4 Mar 2027, 10:00:20"]
    later = replace(old, session=replace(old.session,
                                         starts_at=old.session.starts_at + timedelta(days=7)))
    assert changes(old, later) == ["session moved from Thu 4 Mar 2027, 10:00 to Thu 11 Mar 2027, 10:00"]


def test_nothing_is_sent_again_for_a_moment_the_old_date_already_covered(
        engine: Engine, fake: FakeSlack) -> None:
    w, source, ops = _setup(engine, fake)
    w.at(SESSION - timedelta(days=2))
    _move(w, source, ops, SESSION - timedelta(hours=1))  # an hour earlier: the 7-day moment was covered
    w.sweep()
    assert _heads(w) == ["⏳ 2 days to the special session"]
    assert not [d for d in w.deliveries() if d.kind == "countdown" and d.status == "pending"]
    assert isinstance(w.deliveries()[0], Delivery)


def test_a_session_moved_while_the_bot_was_down_keeps_the_countdown_it_owed(
        engine: Engine, fake: FakeSlack) -> None:
    w, source, _ = _setup(engine, fake)
    w.at(SESSION - timedelta(days=2))
    new_start = w.clock.now() + timedelta(hours=20)
    # settings.yaml was edited while no process ran: the next start simply has the new date
    source.config = replace(source.config, session=replace(
        source.config.session, starts_at=new_start.astimezone(VIENNA)))
    w.at(w.clock.now() + timedelta(minutes=1))
    assert _heads(w)[1:] == ["⏳ 19 hours to the special session"]
    w.at(w.clock.now() + timedelta(minutes=1))
    assert len(_heads(w)) == 2
