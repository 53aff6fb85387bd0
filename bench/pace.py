"""Pace: many DMs due at once go out at the configured pace, exactly once, whatever one call does.

A FakeSlack answers every call after 150 ms (`fake.delay(None, 0.15)`). In a fresh SQLite
database, N commitments of N different owners have their 7-day reminder fall due in the same
sweep; the real `Sweeper` (its pool of senders and its token bucket) delivers them through
`SlackNotifier(make_client(...))`. Runs:

  clean         no faults
  429 every 50  every 50th chat.postMessage is answered HTTP 429, Retry-After: 1
  one hang      one chat.postMessage (the 10th owner's) is held 60 s; the client gives up after
                its 15 s timeout, and the delivery is retried by a later sweep
  one hang, 1 sender   the same with a single sender: how delivery went before the pool

The achieved pace is measured on the fake's side from the arrival times of the accepted posts:
(posts - 1) / (last - first), and compared with the configured pace (the baseline); for the hang
runs also the pace of the other posts while the hung call was held (its first 15 s). Every DM
must be delivered exactly once (checked by the delivery key in the message metadata).

    python -m bench.pace              # 500 DMs at the default pace (240 a minute): ~12 min
    python -m bench.pace --quick      # 100 DMs: ~3 min
    python -m bench.pace --pace 600   # another pace (messages per minute)
"""
from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, UTC
from pathlib import Path

from sqlalchemy import Engine, func, select

from bench._common import python_info, repo_config, say, table
from bench._seed import fresh_database
from bot.clock import FixedClock
from bot.config.types import Config
from bot.domain import planning
from bot.domain.dates import DueDate
from bot.ports import Profile
from bot.scheduling.senders import DEFAULT_SENDERS
from bot.scheduling.sweep import Sweeper
from bot.services import commitments, members
from bot.slack.web import SlackNotifier, make_client
from bot.store.db import make_session_factory, unit_of_work
from bot.store.models import Delivery
from tests.slack_fake.server import Call, FakeSlack
from tests.support.static_config import StaticConfig

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday: no digest, no countdown
LATENCY = 0.15
EVERY = 50
RETRY_AFTER = 1
HANG = 60.0
CLIENT_TIMEOUT = 15.0  # make_client's
HUNG_OWNER = 9
TOLERANCE = 0.10


@dataclass(frozen=True)
class Run:
    """What one run measured."""

    label: str
    senders: int
    dms: int
    seconds: float
    pace: float  # accepted posts per minute over the first sweep, from the fake's arrival times
    pace_while_hung: float | None
    delivered: int
    twice: int
    rate_limited: int
    sweeps: int
    statuses: dict[str, int]


def owner(i: int) -> str:
    """The i-th owner's Slack id."""
    return f"U0P{i:05d}"


def prepare(url: str, config: Config, dms: int) -> Engine:
    """A fresh database with `dms` owners whose 7-day reminders fall due in the same minute."""
    engine = fresh_database(url)
    sessions = make_session_factory(engine)
    due = T0 + timedelta(days=7, seconds=30)
    with unit_of_work(sessions) as s:
        for i in range(dms):
            members.remember(s, user_id=owner(i), profile=Profile(owner(i), "Europe/Vienna"),
                             now=T0)
            commitments.create(s, text=f"Draft the guidelines, part {i}", owner_id=owner(i),
                               creator_id=owner(i), rec_id="L6",
                               due=DueDate(due, due, "in a week", False),
                               first_nudge_at=planning.first_nudge(due, config=config), now=T0)
    return engine


def pace_of(posts: list[Call]) -> float:
    """Posts per minute from the first arrival to the last."""
    if len(posts) < 2:
        return float("nan")
    span = posts[-1].at - posts[0].at
    return (len(posts) - 1) / span * 60 if span > 0 else float("inf")


def run(label: str, *, dms: int, per_minute: int, senders: int, workdir: Path,
        rate_limited: bool = False, hang: bool = False) -> Run:
    """One run against a fresh database and a fresh FakeSlack."""
    url = f"sqlite:///{workdir / (label.replace(' ', '-').replace(',', '') + '.db')}"
    config = replace(repo_config(T0), coordinators=(), quiet_hours=None,
                     messages_per_minute=per_minute)
    engine = prepare(url, config, dms)
    sessions = make_session_factory(engine)
    clock = FixedClock(T0)
    with FakeSlack() as fake:
        sweeper = Sweeper(config=StaticConfig(config), sessions=sessions, clock=clock,
                          notifier=SlackNotifier(make_client(token="xoxb-bench", base_url=fake.url)),
                          holder="bench", senders=senders)
        sweeper.run_once()  # the first sweep sets the mark
        fake.delay(None, LATENCY)
        if rate_limited:
            fake.rate_limit("chat.postMessage", every=EVERY, retry_after=RETRY_AFTER)
        held = None
        if hang:
            held = fake.hang("chat.postMessage", HANG,
                             when=lambda p: p.get("channel") == owner(HUNG_OWNER))
        clock.set(T0 + timedelta(minutes=1))
        started = time.perf_counter()
        sweeper.run_once()
        first = [c for c in fake.calls("chat.postMessage") if c.ok]
        sweeps = 1
        while True:  # later sweeps deliver what was put back (the timed-out post)
            with unit_of_work(sessions, read_only=True) as s:
                left = s.scalar(select(func.count()).select_from(Delivery)
                                .where(Delivery.status.in_(("pending", "claimed"))))
            if not left or sweeps > 20:
                break
            clock.set(clock.now() + timedelta(minutes=1))
            sweeper.run_once()
            sweeps += 1
        seconds = time.perf_counter() - started
        if held is not None:
            held.release()
        calls = fake.calls("chat.postMessage")
        keys = Counter(c.params["metadata"]["event_payload"]["key"] for c in fake.messages())
        while_hung = None
        hung = [c for c in calls if c.params.get("channel") == owner(HUNG_OWNER)]
        if hang and hung:
            t = hung[0].at
            others = [c for c in first if t < c.at <= t + CLIENT_TIMEOUT
                      and c.params.get("channel") != owner(HUNG_OWNER)]
            while_hung = pace_of(others) if len(others) >= 2 else 0.0
        with unit_of_work(sessions, read_only=True) as s:
            statuses = {str(k): int(n) for k, n in s.execute(
                select(Delivery.status, func.count()).group_by(Delivery.status))}
    engine.dispose()
    return Run(label=label, senders=senders, dms=dms, seconds=seconds, pace=pace_of(first),
               pace_while_hung=while_hung, delivered=len(keys),
               twice=sum(1 for n in keys.values() if n > 1),
               rate_limited=sum(1 for c in calls if c.status == 429), sweeps=sweeps,
               statuses=statuses)


def main(argv: list[str] | None = None) -> int:
    """Run the four runs and print the table and the ratios."""
    p = argparse.ArgumentParser(prog="python -m bench.pace", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="100 DMs instead of 500")
    p.add_argument("--dms", type=int, default=None, help="how many DMs fall due (500; quick 100)")
    p.add_argument("--pace", type=int, default=None,
                   help="messages per minute (default: the repo config's)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # a timed-out post logs a warning; keep it clean
    logging.getLogger("slack_sdk").setLevel(logging.CRITICAL)  # and slack_sdk an error
    dms = args.dms or (100 if args.quick else 500)
    per_minute = args.pace or repo_config(T0).messages_per_minute
    say(f"bench.pace — {python_info()}; SQLite; FakeSlack on 127.0.0.1 answering every call "
        f"after {LATENCY * 1000:.0f} ms; {dms} DMs to {dms} owners due in one sweep; configured "
        f"pace {per_minute} a minute; {DEFAULT_SENDERS} senders")
    with tempfile.TemporaryDirectory(prefix="wgbot-bench-") as tmp:
        workdir = Path(tmp)
        runs = []
        for label, senders, kwargs in [
            ("clean", DEFAULT_SENDERS, {}),
            (f"429 every {EVERY}", DEFAULT_SENDERS, {"rate_limited": True}),
            (f"one hang {HANG:g} s", DEFAULT_SENDERS, {"hang": True}),
            (f"one hang {HANG:g} s, 1 sender", 1, {"hang": True}),
        ]:
            say(f"  running: {label} …")
            runs.append(run(label, dms=dms, per_minute=per_minute, senders=senders,
                            workdir=workdir, **kwargs))
    say("")
    say(table(["run", "senders", "wall s", "pace /min", "pace / configured",
               "while hung / configured", "delivered", "twice", "429s", "sweeps", "outbox"],
              [[r.label, r.senders, f"{r.seconds:.1f}", f"{r.pace:.1f}",
                f"{r.pace / per_minute:.3f}",
                "" if r.pace_while_hung is None else f"{r.pace_while_hung / per_minute:.3f}",
                f"{r.delivered}/{r.dms}", r.twice, r.rate_limited, r.sweeps,
                ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items()))] for r in runs]))
    pool = [r for r in runs if r.senders > 1]
    within = all(abs(r.pace / per_minute - 1) <= TOLERANCE for r in pool)
    say(f"\npace within {TOLERANCE:.0%} of the configured pace with the pool of senders: "
        f"{'yes' if within else 'NO'}")
    say(f"every DM delivered: {'yes' if all(r.delivered == r.dms for r in runs) else 'NO'}; "
        f"none twice: {'yes' if all(r.twice == 0 for r in runs) else 'NO'}")
    say("A post that times out is not re-sent blind: its outcome is unknown, so a later sweep "
        "looks its key up in the channel's history first (the fake had posted it, as Slack may) "
        "and records it as sent.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
