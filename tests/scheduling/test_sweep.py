"""The reminder sweep against a real database and the fake Slack Web API, with a clock we move."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import FixedClock
from bot.config.types import Config, QuietHours
from bot.domain import planning
from bot.domain.dates import DueDate
from bot.ports import Profile
from bot.scheduling.sweep import Sweeper
from bot.services import commitments, members
from bot.slack.web import SlackNotifier, make_client
from bot.store import migrate
from bot.store.db import make_engine, make_session_factory, unit_of_work
from bot.store.models import Delivery
from tests.factories import VIENNA, config
from tests.slack_fake.server import FakeSlack
from tests.support.static_config import StaticConfig

OWNER = "U0OWNER1"


@dataclass
class World:
    """A database, a clock, the fake Slack and a sweeper over them."""

    sessions: sessionmaker[Session]
    clock: FixedClock
    fake: FakeSlack
    config: Config
    sweeper: Sweeper

    def sweep(self) -> None:
        self.sweeper.run_once()

    def at(self, moment: datetime) -> None:
        self.clock.set(moment)
        self.sweep()

    def commit(self, due: datetime, *, owner: str = OWNER, rec: str | None = "L6") -> int:
        now = self.clock.now()
        with unit_of_work(self.sessions) as s:
            members.remember(s, user_id=owner, profile=Profile(owner, "Europe/Vienna"),
                             now=now)
            c = commitments.create(s, text="Draft guidelines", owner_id=owner, creator_id=owner,
                                   rec_id=rec, due=DueDate(due, due.astimezone(VIENNA), "x", False),
                                   first_nudge_at=planning.first_nudge(due, config=self.config),
                                   now=now)
            return c.id

    def deliveries(self, kind: str | None = None) -> list[Delivery]:
        with unit_of_work(self.sessions, read_only=True) as s:
            stmt = select(Delivery).order_by(Delivery.id)
            if kind:
                stmt = stmt.where(Delivery.kind == kind)
            return list(s.scalars(stmt))

    def posts(self, channel: str | None = None) -> list[dict]:
        return [c.params for c in self.fake.messages(channel)]


def make_world(database: Engine | str, fake: FakeSlack, cfg: Config, start: datetime, *,
               clock: FixedClock | None = None, timeout: float = 15) -> World:
    """A sweeper over the database: the `engine` fixture's, or a URL's, brought up to date."""
    if isinstance(database, str):
        engine = make_engine(database)
        migrate.bring_up_to_date(engine, database)
    else:
        engine = database
    sessions = make_session_factory(engine)
    clock = clock or FixedClock(start)
    notifier = SlackNotifier(make_client(token="xoxb-test", base_url=fake.url,
                                         rate_limit_retries=3, timeout=timeout))
    sweeper = Sweeper(config=StaticConfig(cfg), sessions=sessions, clock=clock, notifier=notifier,
                      holder="test")
    return World(sessions, clock, fake, cfg, sweeper)


@pytest.fixture
def world(engine: Engine, fake: FakeSlack) -> Iterator[World]:
    # No coordinators here: digests have their own test and would otherwise share the faults.
    cfg = config(quiet_hours=None, coordinators=())
    start = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    w = make_world(engine, fake, cfg, start)
    w.sweep()  # the first sweep sets the mark
    yield w


def test_each_countdown_once_then_skip_after_session(world: World) -> None:
    start = world.config.session.starts_at.astimezone(UTC)
    for offset in world.config.reminders.session:
        world.at(start - offset + timedelta(seconds=1))
        world.sweep()  # a second sweep at the same moment sends nothing more
    posts = world.posts("C0WG")
    assert len(posts) == 5
    heads = [json.loads(json.dumps(p["blocks"]))[0]["text"]["text"] for p in posts]
    assert heads[0].startswith("⏳ 30 days")  # sent a second late, it still names its offset
    assert all(p["metadata"]["event_payload"]["key"].startswith("countdown|C0WG|") for p in posts)
    world.at(start + timedelta(days=1))
    assert len(world.posts("C0WG")) == 5


def test_downtime_sends_what_still_makes_sense_and_skips_the_rest(world: World) -> None:
    start = world.config.session.starts_at.astimezone(UTC)
    # down from before the 1-day countdown until after the session started
    world.at(start - timedelta(days=2))
    sent_before = len(world.posts("C0WG"))
    world.at(start + timedelta(minutes=5))
    assert len(world.posts("C0WG")) == sent_before
    skipped = [d for d in world.deliveries("countdown")[-2:] if d.status == "skipped"]
    assert {d.reason for d in skipped} == {"the session has already started"}
    assert len(skipped) == 2  # 1d and 2h: neither goes out, so neither supersedes the other


def test_deadline_reminders_only_at_configured_offsets(world: World) -> None:
    due = datetime(2027, 1, 20, 16, 0, tzinfo=UTC)
    cid = world.commit(due)
    start = due - timedelta(days=9)  # two days before the first offset (7 days)
    for hours in range(0, 24 * 10, 1):  # hourly sweeps until after the deadline
        world.clock.set(start + timedelta(hours=hours))
        world.sweep()
        if world.clock.now() > due:
            break
    dms = [p for p in world.posts(OWNER) if f"#{cid}" in p["text"] or
           f"#{cid}" in json.dumps(p["blocks"])]
    reminders = [d for d in world.deliveries("deadline") if d.status == "sent"]
    assert sorted(due - d.due_at for d in reminders) == sorted(world.config.reminders.deadline)
    assert len(dms) == 3
    assert any(e["action_id"] == "wg_done" for e in dms[0]["blocks"][-1]["elements"])


def test_done_commitment_is_never_reminded(world: World) -> None:
    due = datetime(2027, 1, 20, 16, 0, tzinfo=UTC)
    cid = world.commit(due)
    with unit_of_work(world.sessions) as s:
        c = commitments.get(s, commitment_id=cid)
        assert c is not None
        commitments.set_status(s, commitment=c, status="done", actor_id=OWNER, now=world.clock.now())
    world.at(due - timedelta(days=7) + timedelta(minutes=1))
    world.at(due + timedelta(days=5))
    assert world.posts(OWNER) == []


def test_moved_commitment_follows_new_deadline(world: World) -> None:
    due = datetime(2027, 1, 20, 16, 0, tzinfo=UTC)
    cid = world.commit(due)
    world.at(due - timedelta(days=7) + timedelta(minutes=1))
    assert len(world.posts(OWNER)) == 1
    new_due = due + timedelta(days=10)
    with unit_of_work(world.sessions) as s:
        c = commitments.get(s, commitment_id=cid)
        assert c is not None
        commitments.move(s, commitment=c, due=DueDate(new_due, new_due, "x", False), actor_id=OWNER,
                         first_nudge_at=planning.first_nudge(new_due, config=world.config),
                         now=world.clock.now())
    world.at(due - timedelta(days=1) + timedelta(minutes=1))  # old 1-day moment: nothing
    assert len(world.posts(OWNER)) == 1
    world.at(new_due - timedelta(days=7) + timedelta(minutes=1))
    assert len(world.posts(OWNER)) == 2


def test_overdue_nudges_on_working_days_up_to_max(world: World) -> None:
    due = datetime(2027, 1, 15, 16, 0, tzinfo=UTC)  # a Friday, 17:00 Vienna
    world.commit(due)
    world.at(due - timedelta(hours=3))
    for day in range(1, 12):
        world.at(due + timedelta(days=day, minutes=1))
    nudges = [d for d in world.deliveries("overdue") if d.status == "sent"]
    assert len(nudges) == world.config.reminders.overdue_max == 3
    assert [d.due_at.astimezone(VIENNA).strftime("%a %H:%M") for d in nudges] == \
        ["Mon 17:00", "Tue 17:00", "Wed 17:00"]


def test_quiet_hours_defer_dms(engine: Engine, fake: FakeSlack) -> None:
    from datetime import time

    cfg = config(quiet_hours=QuietHours(start=time(20, 0), end=time(8, 0)), coordinators=())
    w = make_world(engine, fake, cfg, datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    w.sweep()
    due = datetime(2027, 1, 21, 21, 0, tzinfo=UTC)  # 22:00 Vienna: reminders fall at 22:00
    w.commit(due)
    w.at(due - timedelta(days=7) + timedelta(minutes=1))  # 22:01 Vienna, quiet
    assert w.posts(OWNER) == []
    w.at(datetime(2027, 1, 15, 7, 1, tzinfo=UTC))  # 08:01 Vienna the next morning
    assert len(w.posts(OWNER)) == 1
    w.at(due - timedelta(days=1) + timedelta(minutes=1))
    assert len(w.posts(OWNER)) == 1
    w.at(datetime(2027, 1, 21, 7, 1, tzinfo=UTC))
    assert len(w.posts(OWNER)) == 2
    w.at(due - timedelta(hours=2) + timedelta(minutes=1))  # 20:01 Vienna, quiet again
    assert len(w.posts(OWNER)) == 2
    w.at(datetime(2027, 1, 22, 7, 1, tzinfo=UTC))  # the next morning the deadline has passed
    assert len(w.posts(OWNER)) == 2
    skipped = [d for d in w.deliveries("deadline") if d.status == "skipped"]
    assert [d.reason for d in skipped] == ["the deadline passed before the reminder could go out"]


def test_crash_between_send_and_record_is_reconciled_not_resent(engine: Engine) -> None:
    clock = FixedClock(datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    with FakeSlack(clock=lambda: clock.now().timestamp()) as fake:  # Slack's clock agrees with ours
        world = make_world(engine, fake, config(quiet_hours=None, coordinators=()),
                           clock.now())
        world.clock = clock
        world.sweeper._clock = clock
        world.sweep()
        _crash_after_send(world)


def _crash_after_send(world: World) -> None:
    start = world.config.session.starts_at.astimezone(UTC)
    moment = start - timedelta(days=7)
    world.at(moment - timedelta(days=1))  # the earlier countdowns went out normally
    sent = len(world.posts("C0WG"))
    world.clock.set(moment + timedelta(seconds=1))
    from bot.services import outbox

    with unit_of_work(world.sessions) as s:
        outbox.plan(s, config=world.config, now=world.clock.now())
        d = s.scalars(select(Delivery).where(Delivery.kind == "countdown",
                                             Delivery.status == "pending")).one()
        key, did = d.key, d.id
    with unit_of_work(world.sessions) as s:  # a process claims it, posts it, then dies
        assert outbox.claim(s, delivery_id=did, holder="dead", now=world.clock.now())
    world.fake.add_message("C0WG", "countdown", user="UBOT",
                           metadata={"event_type": "wgbot_delivery", "event_payload": {"key": key}})
    world.at(world.clock.now() + timedelta(minutes=5))
    assert len(world.posts("C0WG")) == sent  # not sent again
    assert world.deliveries("countdown")[-1].status == "sent"
    assert not [d for d in world.deliveries("countdown") if d.status in ("pending", "claimed")]
    assert world.fake.calls("conversations.history")


def test_crash_before_send_is_resent_once(world: World) -> None:
    start = world.config.session.starts_at.astimezone(UTC)
    world.at(start - timedelta(days=8))
    sent = len(world.posts("C0WG"))
    world.clock.set(start - timedelta(days=7) + timedelta(seconds=1))
    from bot.services import outbox

    with unit_of_work(world.sessions) as s:
        outbox.plan(s, config=world.config, now=world.clock.now())
        did = s.scalars(select(Delivery.id).where(Delivery.kind == "countdown",
                                                  Delivery.status == "pending")).one()
        assert outbox.claim(s, delivery_id=did, holder="dead", now=world.clock.now())
    world.at(world.clock.now() + timedelta(minutes=5))
    world.at(world.clock.now() + timedelta(minutes=5))
    assert len(world.posts("C0WG")) == sent + 1


def test_permanent_failure_marks_failed_and_tells_admins_once(world: World) -> None:
    world.fake.fail("chat.postMessage", error="channel_not_found", times=1)
    start = world.config.session.starts_at.astimezone(UTC)
    world.at(start - timedelta(days=30) + timedelta(seconds=1))
    failed = [d for d in world.deliveries("countdown") if d.status == "failed"]
    assert len(failed) == 1 and failed[0].reason == "channel_not_found"
    alerts = world.posts("U0ADMIN")
    assert len(alerts) == 1 and "could not be delivered" in alerts[0]["text"]
    world.at(world.clock.now() + timedelta(minutes=1))
    assert len(world.posts("U0ADMIN")) == 1


def test_server_errors_retry_with_backoff(world: World) -> None:
    world.fake.server_error("chat.postMessage", times=4, status=503)
    start = world.config.session.starts_at.astimezone(UTC)
    world.at(start - timedelta(days=30) + timedelta(seconds=1))
    d = world.deliveries("countdown")[0]
    assert d.status == "pending" and d.attempts == 1
    world.at(world.clock.now() + timedelta(minutes=2))
    assert world.deliveries("countdown")[0].status == "sent"
    assert len(world.posts("C0WG")) == 1


def test_rate_limited_calls_are_retried(world: World) -> None:
    world.fake.rate_limit("chat.postMessage", every=1, retry_after=1)
    start = world.config.session.starts_at.astimezone(UTC)
    world.fake.clear_faults()
    world.fake.rate_limit("chat.postMessage", every=2, retry_after=1)
    world.at(start - timedelta(days=30) + timedelta(seconds=1))
    assert world.deliveries("countdown")[0].status == "sent"


def test_digest_by_cron_with_progress(engine: Engine, fake: FakeSlack) -> None:
    world = make_world(engine, fake, config(quiet_hours=None),
                       datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    world.sweep()
    world.commit(datetime(2027, 1, 8, 16, 0, tzinfo=UTC), rec="S3")
    world.at(datetime(2027, 1, 4, 8, 0, 30, tzinfo=UTC))  # Monday 09:00:30 Vienna
    dms = world.posts("U0COORD")
    assert len(dms) == 1
    blob = json.dumps(dms[0]["blocks"], ensure_ascii=False)
    for fragment in ("Progress per key area", "Progress per recommendation", "Due in the next 14 days",
                     "Nobody has committed to", "Draft guidelines"):
        assert fragment in blob
    world.at(datetime(2027, 1, 4, 8, 5, tzinfo=UTC))
    assert len(world.posts("U0COORD")) == 1


def test_session_date_change_skips_stale_countdowns(world: World) -> None:
    start = world.config.session.starts_at.astimezone(UTC)
    moment = start - timedelta(days=7)
    world.clock.set(moment + timedelta(seconds=1))
    from bot.services import outbox

    with unit_of_work(world.sessions) as s:
        outbox.plan(s, config=world.config, now=world.clock.now())
    moved = replace(world.config, session=replace(world.config.session,
                                                   starts_at=world.config.session.starts_at +
                                                   timedelta(days=14)))
    world.sweeper._config = StaticConfig(moved)  # the admin moved the session
    world.sweep()
    old = [d for d in world.deliveries("countdown")
           if d.subject == planning.session_subject(start)]
    assert len(old) == 3 and {d.status for d in old} == {"skipped"}
    assert old[-1].reason == "the session date changed"
    # none of them went out, so the countdown the new date already passed (30 days) is owed
    heads = [p["blocks"][0]["text"]["text"] for p in world.posts("C0WG")]
    assert heads == ["⏳ 20 days to the special session"]


def test_long_digest_attaches_full_list_as_csv(engine: Engine, fake: FakeSlack) -> None:
    world = make_world(engine, fake, config(quiet_hours=None),
                       datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    world.sweep()
    for day in range(40):
        world.commit(datetime(2027, 1, 5, 16, 0, tzinfo=UTC) + timedelta(hours=day), rec="L9")
    world.at(datetime(2027, 1, 4, 8, 0, 30, tzinfo=UTC))
    dm = world.posts("U0COORD")
    assert len(dm) == 1 and len(dm[0]["blocks"]) <= 50
    assert len(json.dumps(dm[0]["blocks"])) < 12000
    files = fake.uploaded_files()
    assert len(files) == 1 and files[0].filename.endswith(".csv")
    assert files[0].content.decode("utf-8-sig").count("\n") == 41  # header + 40 commitments


def test_sweep_forgets_old_event_ids(world: World) -> None:
    from bot.services import events

    with unit_of_work(world.sessions) as s:
        assert events.claim(s, event_id="Ev0OLD", now=world.clock.now())
    world.at(world.clock.now() + timedelta(days=3))
    with unit_of_work(world.sessions) as s:
        assert events.claim(s, event_id="Ev0OLD", now=world.clock.now())  # forgotten, so new again
        assert not events.claim(s, event_id="Ev0OLD", now=world.clock.now())
