"""Reminder sweeps and digests at 1k/10k/100k commitments, and 1,000 DMs through Slack's 429s.

(a) For each size, a fresh SQLite database bulk-seeded over 1k members (bench/_seed.py), the real
    `Sweeper` (outbox.plan, compose, deliver) and `SlackNotifier(make_client(...))` posting to a
    FakeSlack. Every timed sweep has the SAME work whatever the size: exactly 50 deadlines fall in
    its one-minute window for the 1-day offset; nothing else is near any reminder offset, nudge,
    countdown or digest moment. Then the time to build every coordinator digest
    (`digests.gather` + `notifications.digest`, 3 coordinators), which does read every open
    commitment. The 1k size is the baseline: the ratio 100k/1k of the sweep should stay small.
(b) 1,000 deadline DMs falling due in one sweep, delivered to a FakeSlack that answers every 50th
    chat.postMessage with HTTP 429 (Retry-After: 1), against the same sweep without faults. Every
    DM must arrive exactly once (checked by the delivery key in the message metadata).

    python -m bench.reminders            # full: 1k, 10k, 100k; 5 timed sweeps per size
    python -m bench.reminders --quick    # 1k and 10k; 3 timed sweeps; (b) with 300 DMs

The sizes are measured interleaved (all databases open, sweeps and digests taken in rounds that
rotate their order), so that a change in the machine's speed does not read as a size effect.
"""
from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, UTC
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bench._common import (
    ms,
    python_info,
    ratio,
    repo_config,
    say,
    summarize,
    table,
    verdict,
)
from bench._seed import Planted, fresh_database, member_ids, seed
from bot.clock import FixedClock
from bot.config.fields import MAX_MESSAGES_PER_MINUTE
from bot.config.types import Config, Person
from bot.replies import notifications
from bot.scheduling.sweep import Sweeper, SweepReport
from bot.services import digests, members
from bot.slack.web import SlackNotifier, make_client
from bot.store.db import make_session_factory, unit_of_work
from bot.store.models import Delivery
from tests.slack_fake.server import FakeSlack
from tests.support.static_config import StaticConfig

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday: no digest, no countdown
WINDOW = timedelta(minutes=1)
DUE_PER_SWEEP = 50
MEMBERS = 1000
COORDINATORS = (Person("U0COORD01", "Coordinator one"), Person("U0COORD02", "Coordinator two"),
                Person("U0COORD03", "Coordinator three"))
GOAL = 2.0
RETRY_AFTER = 1
EVERY = 50
DIGEST_RUNS = 3


@dataclass
class Size:
    """One database size, a sweeper over it, and what was measured."""

    size: int
    sessions: sessionmaker[Session]
    clock: FixedClock
    sweeper: Sweeper
    engine: Engine
    sweeps: list[float] = field(default_factory=list)
    digests: list[float] = field(default_factory=list)
    rows: list[list[object]] = field(default_factory=list)
    sent: int = 0
    expected: int = 0
    digest_bytes: int = 0


@dataclass(frozen=True)
class Flood:
    """One run of delivering many DMs in a single sweep."""

    label: str
    seconds: float
    dms: int
    delivered_keys: int
    duplicates: int
    accepted_posts: int
    rate_limited: int
    statuses: dict[str, int]


def bench_config() -> Config:
    """The repo config with three coordinators, no quiet hours and the fastest pace allowed.

    The pace is measured by bench.pace; here it would hide the cost of a sweep.
    """
    return replace(repo_config(T0), coordinators=COORDINATORS, quiet_hours=None,
                   messages_per_minute=MAX_MESSAGES_PER_MINUTE)


def window_end(i: int) -> datetime:
    """The moment of sweep i (sweep 0 is the seed's mark)."""
    return T0 + i * WINDOW


def planted_for(sweeps: int, per_sweep: int) -> list[Planted]:
    """per_sweep deadlines whose 1-day reminder falls inside each sweep's window, owners spread."""
    owners = member_ids(MEMBERS)
    out: list[Planted] = []
    for i in range(1, sweeps + 1):
        due = window_end(i) + timedelta(days=1) - WINDOW / 2
        out.extend(Planted(owners[(i * per_sweep + j) % MEMBERS], due)
                   for j in range(per_sweep))
    return out


def make_sweeper(sessions: sessionmaker[Session], config: Config, clock: FixedClock,
                 fake: FakeSlack) -> Sweeper:
    """The real sweeper posting through the real Slack notifier to the fake."""
    notifier = SlackNotifier(make_client(token="xoxb-bench", base_url=fake.url))
    return Sweeper(config=StaticConfig(config), sessions=sessions, clock=clock, notifier=notifier,
                   holder="bench")


def build_digests(sessions: sessionmaker[Session], config: Config, now: datetime) -> int:
    """Gather and render every coordinator's digest; returns the bytes of CSV attached."""
    size = 0
    with unit_of_work(sessions, read_only=True) as s:
        for person in config.coordinators:
            tz = members.timezone_of(s, user_id=person.id, default=config.timezone)
            data = digests.gather(s, config=config, coordinator_id=person.id, now=now)
            reply = notifications.digest(data, config=config, tz=tz)
            size += sum(len(f.content) for f in reply.files)
    return size


def open_size(size: int, *, sweeps: int, workdir: Path, fake: FakeSlack) -> Size:
    """Seed `size` commitments (50 planted per sweep) and build a sweeper over them."""
    config = bench_config()
    url = f"sqlite:///{workdir / f'sweep-{size}.db'}"
    engine = fresh_database(url)
    report = seed(engine, now=T0, config=config, members=MEMBERS, commitments=size,
                  planted=planted_for(sweeps + 1, DUE_PER_SWEEP), sweep_mark=T0)
    say(f"{size:,} commitments over {MEMBERS:,} members: {report.statuses['open']:,} open, "
        f"{report.statuses['done']:,} done, {report.statuses['cancelled']:,} cancelled; "
        f"{report.audit_entries:,} audit entries, {report.deliveries:,} past deliveries; "
        f"seeded in {report.seconds:.1f} s")
    sessions = make_session_factory(engine)
    clock = FixedClock(T0)
    return Size(size, sessions, clock, make_sweeper(sessions, config, clock, fake), engine)


def sweep(subject: Size, i: int) -> None:
    """Run sweep i (its window ends at window_end(i)); sweep 1 is an untimed warm-up."""
    subject.clock.set(window_end(i))
    started = time.perf_counter()
    rep: SweepReport = subject.sweeper.run_once()
    elapsed = time.perf_counter() - started
    subject.rows.append(["warm-up" if i == 1 else f"sweep {i - 1}", rep.planned, rep.sent,
                         rep.skipped, rep.failed + rep.retried, ms(elapsed)])
    if i > 1:
        subject.sweeps.append(elapsed)
        subject.sent += rep.sent
        subject.expected += DUE_PER_SWEEP


def digest_once(subject: Size, config: Config) -> None:
    """Time building every coordinator digest once."""
    started = time.perf_counter()
    subject.digest_bytes = build_digests(subject.sessions, config, subject.clock.now())
    subject.digests.append(time.perf_counter() - started)


def flood(label: str, *, dms: int, workdir: Path, rate_limited: bool) -> Flood:
    """One sweep that must deliver `dms` deadline DMs, optionally through injected 429s."""
    config = bench_config()
    url = f"sqlite:///{workdir / f'flood-{label}.db'}"
    engine = fresh_database(url)
    owners = member_ids(MEMBERS)
    due = window_end(1) + timedelta(days=1) - WINDOW / 2
    seed(engine, now=T0, config=config, members=MEMBERS, commitments=max(10_000, dms),
         planted=[Planted(owners[j % MEMBERS], due) for j in range(dms)], sweep_mark=T0,
         seed_value=11)
    sessions = make_session_factory(engine)
    clock = FixedClock(window_end(1))
    with FakeSlack() as fake:
        if rate_limited:
            fake.rate_limit("chat.postMessage", every=EVERY, retry_after=RETRY_AFTER)
        sweeper = make_sweeper(sessions, config, clock, fake)
        started = time.perf_counter()
        sweeper.run_once()
        seconds = time.perf_counter() - started
        calls = fake.calls("chat.postMessage")
    keys = Counter(str(((c.params.get("metadata") or {}).get("event_payload") or {}).get("key"))
                   for c in calls if c.ok)
    with unit_of_work(sessions, read_only=True) as s:
        statuses = {str(k): int(n) for k, n in s.execute(
            select(Delivery.status, func.count()).where(Delivery.created_at >= T0)
            .group_by(Delivery.status))}
    engine.dispose()
    return Flood(label=label, seconds=seconds, dms=dms, delivered_keys=len(keys),
                 duplicates=sum(1 for n in keys.values() if n > 1),
                 accepted_posts=sum(keys.values()),
                 rate_limited=sum(1 for c in calls if c.status == 429), statuses=statuses)


def main(argv: list[str] | None = None) -> int:
    """Run both parts and print the tables and the ratios."""
    p = argparse.ArgumentParser(prog="python -m bench.reminders", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="sizes 1k and 10k, fewer sweeps, 300 DMs")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # delivery retries log warnings; keep the table clean
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    sweeps = 3 if args.quick else 5
    dms = 300 if args.quick else 1_000
    say(f"bench.reminders — {python_info()}; SQLite; FakeSlack on 127.0.0.1; T0 = "
        f"{T0.isoformat()}; {MEMBERS:,} members; {len(COORDINATORS)} coordinators; "
        f"quiet hours off")
    say(f"\n(a) one sweep = outbox.plan + compose + chat.postMessage of exactly {DUE_PER_SWEEP} "
        f"deadline reminders (1-day offset) in a {int(WINDOW.total_seconds())} s window; "
        f"{sweeps} timed sweeps per size")
    subjects: list[Size] = []
    with tempfile.TemporaryDirectory(prefix="wgbot-bench-") as tmp:
        workdir = Path(tmp)
        with FakeSlack() as fake:
            try:
                for size in sizes:
                    subjects.append(open_size(size, sweeps=sweeps, workdir=workdir, fake=fake))
                for i in range(1, sweeps + 2):
                    for subject in subjects[i % len(subjects):] + subjects[:i % len(subjects)]:
                        sweep(subject, i)
                config = bench_config()
                for r in range(DIGEST_RUNS):
                    for subject in subjects[r % len(subjects):] + subjects[:r % len(subjects)]:
                        digest_once(subject, config)
                posts = len(fake.messages())
            finally:
                for subject in subjects:
                    subject.engine.dispose()
        for subject in subjects:
            say(f"\n== {subject.size:,} commitments: sweeps")
            say(table(["sweep", "planned", "sent", "skipped", "failed/retried", "ms"],
                      subject.rows))
        say(f"\nchat.postMessage accepted by the fake: {posts:,} (expected "
            f"{len(subjects) * (sweeps + 1) * DUE_PER_SWEEP:,})")
        base, top = subjects[0], subjects[-1]
        label = f"{top.size // 1000}k/{base.size // 1000}k"
        b_sweep, t_sweep = summarize(base.sweeps).p50, summarize(top.sweeps).p50
        b_digest, t_digest = summarize(base.digests).p50, summarize(top.digests).p50
        say(f"\n== (a) Sweep with {DUE_PER_SWEEP} due, and all {len(COORDINATORS)} coordinator "
            f"digests, per size (ratio {label}; sweep goal ≤ {GOAL:g}×)")
        say(table(["size", "sweep median ms", "sweep p95 ms", "sent/expected",
                   "digests median ms", "digests p95 ms", "digest CSVs bytes"],
                  [[f"{r.size:,}", ms(summarize(r.sweeps).p50), ms(summarize(r.sweeps).p95),
                    f"{r.sent}/{r.expected}", ms(summarize(r.digests).p50),
                    ms(summarize(r.digests).p95), f"{r.digest_bytes:,}"] for r in subjects]))
        say(f"sweep   {label} = {ratio(t_sweep, b_sweep)}  ({verdict(t_sweep / b_sweep, GOAL)})")
        say(f"digests {label} = {ratio(t_digest, b_digest)}  (informational: a digest reads "
            f"every open commitment and attaches them as CSV, so it grows with them)")

        say(f"\n(b) {dms:,} deadline DMs due in one sweep; FakeSlack answers every {EVERY}th "
            f"chat.postMessage with 429 Retry-After: {RETRY_AFTER}")
        runs = [flood("no faults", dms=dms, workdir=workdir, rate_limited=False),
                flood("429 every 50", dms=dms, workdir=workdir, rate_limited=True)]
    say(table(["run", "wall s", "DMs due", "distinct keys delivered", "delivered twice",
               "accepted posts", "429s served", "outbox"],
              [[r.label, f"{r.seconds:.2f}", r.dms, r.delivered_keys, r.duplicates,
                r.accepted_posts, r.rate_limited,
                ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items()))] for r in runs]))
    clean, limited = runs
    floor = limited.rate_limited * RETRY_AFTER
    say(f"all delivered exactly once: "
        f"{'yes' if all(r.delivered_keys == r.dms and r.duplicates == 0 for r in runs) else 'NO'}")
    say(f"with 429s / without = {ratio(limited.seconds, clean.seconds)}; extra time "
        f"{limited.seconds - clean.seconds:.2f} s; each 429 pauses chat.postMessage for every "
        f"sender for Retry-After ({limited.rate_limited} × {RETRY_AFTER} s = {floor} s if none "
        f"overlapped)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
