"""Pace: the token bucket and the shared 429 pause (injected clocks), and the pool of senders
against a real database and the fake Slack: exactly once under 429s and a hanging call, one
message in flight per channel, a 429 pausing every sender, a clean stop mid-delivery."""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import FixedClock
from bot.config.report import changes
from bot.config.types import Config
from bot.domain import planning
from bot.domain.dates import DueDate
from bot.ports import Profile
from bot.scheduling.pace import TokenBucket
from bot.scheduling.senders import send_concurrently
from bot.scheduling.sweep import Sweeper, SweepReport
from bot.services import commitments, members
from bot.slack.pace import MethodPauses, SharedRateLimitRetryHandler
from bot.slack.web import SlackNotifier, make_client
from bot.store.db import make_session_factory, unit_of_work
from bot.store.models import Delivery
from tests.factories import VIENNA, config
from tests.slack_fake.server import Call, FakeSlack
from tests.support.static_config import StaticConfig

START = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
SENDERS = 4


class ManualClock:
    """Monotonic seconds that move only when told; sleeping moves them."""

    def __init__(self) -> None:
        self.t = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


# ---------------------------------------------------------------- the bucket and the pause


def test_bucket_allows_a_second_worth_then_paces_at_the_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(120, clock=clock)  # 2 a second, a burst of 2
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.0, 0.5, 1.0]
    clock.t += 1.0  # the two tokens owed are earned; the next one is half a second away
    assert bucket.reserve() == 0.5
    clock.t += 10.0  # idle time earns at most one second's worth
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.5]


def test_bucket_takes_a_new_pace_and_gives_back_an_unused_token() -> None:
    clock = ManualClock()
    bucket = TokenBucket(600, clock=clock)  # 10 a second
    bucket.set_rate(60)  # one a second: the burst shrinks to one
    assert bucket.per_minute == 60
    assert [bucket.reserve(), bucket.reserve()] == [0.0, 1.0]
    waits: list[float] = []
    assert bucket.take(lambda s: waits.append(s) or True) is False  # interrupted: not taken
    assert waits == [2.0]
    assert bucket.reserve() == 2.0  # the interrupted token was given back
    with pytest.raises(ValueError):
        bucket.set_rate(0)


def test_a_pause_holds_its_method_only_and_a_longer_one_wins() -> None:
    clock = ManualClock()
    pauses = MethodPauses(clock=clock, sleep=clock.sleep)
    pauses.pause("chat.postMessage", 3)
    pauses.pause("chat.postMessage", 1)  # a shorter pause does not shorten it
    assert pauses.remaining("chat.postMessage") == 3
    assert pauses.remaining("users.info") == 0
    assert pauses.wait("users.info") == 0 and clock.slept == []
    assert pauses.wait("chat.postMessage") == 3 and clock.slept == [3]
    assert pauses.remaining("chat.postMessage") == 0


def test_a_pause_added_while_waiting_is_waited_out_too() -> None:
    clock = ManualClock()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.slept) == 1:  # another thread got a 429 meanwhile
            pauses.pause("chat.postMessage", 5)

    pauses = MethodPauses(clock=clock, sleep=sleep)
    pauses.pause("chat.postMessage", 2)
    assert pauses.wait("chat.postMessage") == 7 and clock.slept == [2, 5]


def test_the_429_handler_pauses_the_method_for_retry_after_then_retries() -> None:
    clock = ManualClock()
    pauses = MethodPauses(clock=clock, sleep=clock.sleep)
    handler = SharedRateLimitRetryHandler(pauses, max_retry_count=3)
    request = HttpRequest(method="POST", url="http://127.0.0.1:1/api/chat.postMessage", headers={})
    response = HttpResponse(status_code=429, headers={"Retry-After": ["4"]}, data=b"{}")
    state = RetryState()
    assert handler.can_retry(state=state, request=request, response=response)
    handler.prepare_for_next_attempt(state=state, request=request, response=response)
    assert state.next_attempt_requested and state.current_attempt == 1
    assert clock.slept == [4.0]  # no jitter: exactly Retry-After
    pauses.pause("chat.postMessage", 0)
    handler.prepare_for_next_attempt(state=state, request=request, response=HttpResponse(
        status_code=429, headers={}, data=b"{}"))  # no Retry-After: one second
    assert clock.slept == [4.0, 1.0]


def test_a_new_pace_is_reported_to_admins() -> None:
    base = config()
    assert changes(base, replace(base, messages_per_minute=60)) == [
        "at most 60 messages a minute now (was 240)"]


def test_senders_send_each_item_once_in_order_per_channel_and_report_a_failure_last() -> None:
    items = [(i, "AB"[i % 2]) for i in range(1, 11)] + [(11, "C")]
    fetched: list[int] = []
    sent: list[tuple[int, str]] = []
    lock = threading.Lock()

    def fetch() -> list[tuple[int, str]]:  # like outbox.ready: whatever is not done yet
        fetched.append(1)
        with lock:
            done = {i for i, _ in sent}
        return [it for it in items if it[0] not in done]

    def send(i: int) -> int:
        with lock:
            sent.append((i, dict(items)[i]))
        if i == 11:
            raise RuntimeError("Slack fell over")
        return i

    with pytest.raises(RuntimeError, match="fell over"):
        send_concurrently(fetch=fetch, send=send, senders=3, stop=threading.Event())
    assert sorted(i for i, _ in sent) == list(range(1, 12))  # each once, the failure did not stop them
    for channel in "AB":
        mine = [i for i, ch in sent if ch == channel]
        assert mine == sorted(mine)
    assert len(fetched) > 1  # asked again as work ran low


def test_senders_start_nothing_once_stopping() -> None:
    stop = threading.Event()
    stop.set()
    assert send_concurrently(fetch=lambda: [(1, "A")], send=lambda i: i, senders=2, stop=stop) == []


# ---------------------------------------------------------------- senders against the fake Slack


@dataclass
class World:
    """A database, a clock, the fake Slack and a sweeper over them."""

    sessions: sessionmaker[Session]
    clock: FixedClock
    fake: FakeSlack
    config: Config
    sweeper: Sweeper

    def due_together(self, owners: list[str]) -> None:
        """One commitment per entry, all with their 7-day reminder due in the next sweep."""
        due = START + timedelta(days=7, seconds=30)
        with unit_of_work(self.sessions) as s:
            for owner in owners:
                members.remember(s, user_id=owner, profile=Profile(owner, "Europe/Vienna"),
                                 now=START)
                commitments.create(s, text=f"Draft guidelines for {owner}", owner_id=owner,
                                   creator_id=owner, rec_id="L6",
                                   due=DueDate(due, due.astimezone(VIENNA), "x", False),
                                   first_nudge_at=planning.first_nudge(due, config=self.config),
                                   now=START)
        self.clock.set(START + timedelta(minutes=1))

    def deliveries(self) -> list[Delivery]:
        with unit_of_work(self.sessions, read_only=True) as s:
            return list(s.scalars(select(Delivery).order_by(Delivery.id)))

    def posts(self) -> list[Call]:
        return self.fake.calls("chat.postMessage")

    def accepted_keys(self) -> Counter[str]:
        return Counter(c.params["metadata"]["event_payload"]["key"] for c in self.fake.messages())


def make_sweeper(w: World, holder: str, pace: TokenBucket | None = None) -> Sweeper:
    notifier = SlackNotifier(make_client(token="xoxb-test", base_url=w.fake.url,
                                         rate_limit_retries=5))
    return Sweeper(config=StaticConfig(w.config), sessions=w.sessions, clock=w.clock,
                   notifier=notifier, holder=holder, senders=SENDERS, pace=pace)


def build(engine: Engine, fake: FakeSlack, *, per_minute: int = 6000,
          pace: TokenBucket | None = None) -> World:
    sessions = make_session_factory(engine)
    cfg = config(quiet_hours=None, coordinators=(), messages_per_minute=per_minute)
    w = World(sessions, FixedClock(START), fake, cfg, None)  # type: ignore[arg-type]
    w.sweeper = make_sweeper(w, "test", pace)
    w.sweeper.run_once()  # the first sweep sets the mark
    return w


@pytest.fixture
def world(engine: Engine, fake: FakeSlack) -> Iterator[World]:
    yield build(engine, fake)


def owners(n: int) -> list[str]:
    return [f"U0OWN{i:03d}" for i in range(n)]


def assert_each_sent_once(w: World, n: int) -> None:
    rows = w.deliveries()
    assert len(rows) == n and {d.status for d in rows} == {"sent"}, \
        [(d.id, d.status, d.reason) for d in rows]
    keys = w.accepted_keys()
    assert sorted(keys) == sorted(d.key for d in rows)
    assert set(keys.values()) == {1}, keys  # none twice


def test_every_dm_exactly_once_through_429s_with_concurrent_senders(world: World) -> None:
    world.fake.rate_limit("chat.postMessage", every=4, retry_after=1)
    world.due_together(owners(10))
    report = world.sweeper.run_once()
    assert report.sent == 10
    assert_each_sent_once(world, 10)
    assert any(c.status == 429 for c in world.posts())


def test_a_429_pauses_the_method_for_every_sender(world: World) -> None:
    world.fake.rate_limit("chat.postMessage", every=5, retry_after=1, times=1)
    world.due_together(owners(24))
    world.sweeper.run_once()
    assert_each_sent_once(world, 24)
    posts = world.posts()
    limited = [c for c in posts if c.status == 429]
    assert len(limited) == 1
    t429 = limited[0].answered_at
    inside = [c for c in posts if t429 < c.at < t429 + 1.0]
    # Only calls already on their way when the 429 was answered may arrive inside the pause (at
    # most one per other sender); a per-call sleep would let the other senders keep posting.
    assert len(inside) <= SENDERS - 1, [(round(c.at - t429, 3), c.status) for c in inside]
    after = [c for c in posts if c.at >= t429 + 1.0]
    assert len(after) >= 24 - 4 - SENDERS  # the rest went out once the pause was over


def test_a_hanging_call_holds_one_sender_while_the_others_deliver(world: World) -> None:
    hang = world.fake.hang("chat.postMessage", 30)  # the first post's answer is held
    world.due_together(owners(10))
    sweep = threading.Thread(target=world.sweeper.run_once)
    sweep.start()
    try:
        assert hang.started.wait(10)
        # All ten posts arrive while the first one's answer is still held back …
        world.fake.wait_for("chat.postMessage", count=10, timeout=10)
        assert not [d for d in world.deliveries() if d.status == "pending"]
        for _ in range(500):  # … and nine are recorded as sent meanwhile
            if Counter(d.status for d in world.deliveries())["sent"] == 9:
                break
            time.sleep(0.02)
        assert Counter(d.status for d in world.deliveries()) == {"sent": 9, "claimed": 1}
        assert sweep.is_alive() and not hang.released
    finally:
        hang.release()
        sweep.join(20)
    assert not sweep.is_alive()
    assert_each_sent_once(world, 10)


def test_one_message_in_flight_per_channel(world: World) -> None:
    world.fake.delay(None, 0.05)  # every call takes a while, so senders would overlap
    people = owners(3)
    world.due_together([p for p in people for _ in range(4)])
    world.sweeper.run_once()
    assert_each_sent_once(world, 12)
    posts = sorted(world.posts(), key=lambda c: c.at)
    for person in people:
        mine = [c for c in posts if c.params["channel"] == person]
        assert len(mine) == 4
        for before, after in pairwise(mine):
            assert after.at >= before.answered_at, f"two posts to {person} overlapped"
    overlapping = [(a, b) for a, b in pairwise(posts) if b.at < a.answered_at]
    assert overlapping, "different channels should have been served at the same time"


def test_stopping_finishes_and_records_the_call_in_flight_and_starts_no_other(
        engine: Engine, fake: FakeSlack) -> None:
    frozen = TokenBucket(60, clock=lambda: 0.0)  # one token now, the next never earned
    w = build(engine, fake, per_minute=60, pace=frozen)
    hang = fake.hang("chat.postMessage", 30)
    w.due_together(owners(6))
    reports: list[SweepReport] = []
    sweep = threading.Thread(target=lambda: reports.append(w.sweeper.run_once()))
    sweep.start()
    try:
        assert hang.started.wait(10)
        w.sweeper.stopping.set()  # SIGTERM while the first post hangs and others wait their turn
    finally:
        hang.release()
        sweep.join(20)
    assert not sweep.is_alive()
    rows = w.deliveries()
    assert Counter(d.status for d in rows) == {"sent": 1, "pending": 5}
    assert len(fake.messages()) == 1
    assert reports and reports[0].sent == 1


def test_two_sweepers_with_their_senders_never_send_the_same_dm_twice(world: World) -> None:
    other = make_sweeper(world, "other")
    world.fake.delay(None, 0.02)
    world.due_together(owners(30))
    threads = [threading.Thread(target=s.run_once) for s in (world.sweeper, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert_each_sent_once(world, 30)
