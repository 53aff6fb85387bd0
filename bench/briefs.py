"""Digests and the session brief at 1k/10k/100k commitments.

For each size, a fresh SQLite database with the real migrations, bulk-seeded over 1k members
(bench/_seed.py: deadlines from 60 days ago to 300 days ahead, ~70% open / 20% done / 10%
cancelled, an audit entry per change, past reminders and last week's digests in the outbox),
plus 2% of the commitments moved twice (so slippage has rows to find) and a delegation for every
member (twelve delegations). Then, in interleaved rounds that rotate the order of the sizes:

* digests: the three coordinators' digests built as one sweep builds them, each in its own unit
  of work, the figures and urgent rows counted once and shared (`digests.FiguresMemo`, fresh each
  round), then
  `digests.gather` + `notifications.digest` per coordinator (CSV included when lists are long);
* brief: `briefs.gather` + the chart (matplotlib, Agg), the Word document (python-docx), the
  text copy and the Slack summary (`bot.brief.files.brief_files`, `replies.brief.summary`);
* brief data: `briefs.gather` alone (the SQL side of the brief).

Printed: medians and p95 per size, the CSV bytes, the ratio 100k/1k (goal ≤ 3×), and the load
average before and after (the machine may be shared: compare ratios within one run).
"""
from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, update
from sqlalchemy.orm import Session, sessionmaker

from bench._common import ms, python_info, ratio, repo_config, say, summarize, table, verdict
from bench._seed import fresh_database, member_ids, seed
from bot.brief.files import brief_files
from bot.config.types import Config, Person
from bot.replies import brief as brief_replies
from bot.replies import notifications
from bot.services import briefs, digests, members
from bot.store.db import make_session_factory, unit_of_work
from bot.store.models import AuditEntry, Member

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
MEMBERS = 1000
GOAL = 3.0
COORDINATORS = (Person("U0COORD01", "Coordinator one"), Person("U0COORD02", "Coordinator two"),
                Person("U0COORD03", "Coordinator three"))
DELEGATIONS = ("Austria", "Malta", "Mongolia", "Switzerland", "Tunisia", "OSCE Secretariat",
               "ODIHR", "Kazakhstan", "Italy", "Germany", "Holy See", "Albania")


@dataclass
class Size:
    """One database size and what was measured on it."""

    size: int
    engine: Engine
    sessions: sessionmaker[Session]
    seeded_s: float
    digests: list[float] = field(default_factory=list)
    brief: list[float] = field(default_factory=list)
    brief_data: list[float] = field(default_factory=list)
    csv_bytes: int = 0
    brief_bytes: int = 0


def bench_config() -> Config:
    """The repo's config with three coordinators."""
    return replace(repo_config(T0), coordinators=COORDINATORS)


def open_size(size: int, workdir: Path, config: Config) -> Size:
    """Seed a database of `size` commitments, some moved twice, every member in a delegation."""
    engine = fresh_database(f"sqlite:///{workdir / f'briefs-{size}.db'}")
    report = seed(engine, now=T0, config=config, members=MEMBERS, commitments=size)
    started = time.perf_counter()
    with engine.begin() as conn:
        moved = [{"commitment_id": cid, "actor_id": "U0M00001", "at": T0 - timedelta(days=3 - k),
                  "action": "moved",
                  "changes": {"due": [(T0 + timedelta(days=k)).isoformat(),
                                      (T0 + timedelta(days=k + 5)).isoformat()]}}
                 for cid in range(1, size + 1, 50) for k in range(2)]
        conn.execute(insert(AuditEntry), moved)
        for i, uid in enumerate(member_ids(MEMBERS)):
            conn.execute(update(Member).where(Member.id == uid)
                         .values(delegation=DELEGATIONS[i % len(DELEGATIONS)]))
    seconds = report.seconds + time.perf_counter() - started
    say(f"seeded {size:,} commitments ({report.audit_entries + len(moved):,} audit entries, "
        f"{report.deliveries:,} deliveries) in {seconds:.1f} s")
    return Size(size=size, engine=engine, sessions=make_session_factory(engine), seeded_s=seconds)


def build_digests(subject: Size, config: Config) -> None:
    """Every coordinator's digest, each in its own unit of work, as one sweep builds them.

    A sweep shares the figures and the urgent rows among its digests (`digests.FiguresMemo`): a
    fresh memo per round, so every round counts them once, like every sweep.
    """
    started = time.perf_counter()
    size = 0
    memo = digests.FiguresMemo()
    for person in config.coordinators:
        with unit_of_work(subject.sessions, read_only=True) as s:
            tz = members.timezone_of(s, user_id=person.id, default=config.timezone)
            data = digests.gather(s, config=config, coordinator_id=person.id, now=T0, memo=memo)
        reply = notifications.digest(data, config=config, tz=tz)
        size += sum(len(f.content) for f in reply.files)
    subject.digests.append(time.perf_counter() - started)
    subject.csv_bytes = size


def build_brief(subject: Size, config: Config) -> None:
    """The brief, data and files (chart, Word document, text) and its Slack summary."""
    started = time.perf_counter()
    with unit_of_work(subject.sessions, read_only=True) as s:
        brief = briefs.gather(s, config=config, now=T0, tz=config.timezone)
    subject.brief_data.append(time.perf_counter() - started)
    files = brief_files(brief)
    brief_replies.summary(brief, files=files)
    subject.brief.append(time.perf_counter() - started)
    subject.brief_bytes = sum(len(f.content) for f in files)


def load() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` shows them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    """Seed the sizes, measure in rotating rounds, print the tables and ratios."""
    p = argparse.ArgumentParser(prog="python -m bench.briefs", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="sizes 1k and 10k, 3 rounds")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    rounds = 3 if args.quick else 7
    config = bench_config()
    say(f"bench.briefs — {python_info()}; SQLite; T0 = {T0.isoformat()}; {MEMBERS:,} members; "
        f"{len(COORDINATORS)} coordinators; {rounds} rounds after a warm-up")
    say(f"load average before: {load()}")
    subjects: list[Size] = []
    with tempfile.TemporaryDirectory(prefix="wgbot-bench-") as tmp:
        try:
            for size in sizes:
                subjects.append(open_size(size, Path(tmp), config))
            for subject in subjects:  # warm-up: imports, caches, first matplotlib figure
                build_digests(subject, config)
                build_brief(subject, config)
                subject.digests.clear()
                subject.brief.clear()
                subject.brief_data.clear()
            for r in range(rounds):
                for subject in subjects[r % len(subjects):] + subjects[:r % len(subjects)]:
                    build_digests(subject, config)
                    build_brief(subject, config)
        finally:
            for subject in subjects:
                subject.engine.dispose()
    say(table(["commitments", "3 digests median ms", "p95 ms", "digest CSVs bytes",
               "brief median ms", "p95 ms", "brief data ms", "brief files bytes"],
              [[f"{s.size:,}", ms(summarize(s.digests).p50), ms(summarize(s.digests).p95),
                f"{s.csv_bytes:,}", ms(summarize(s.brief).p50), ms(summarize(s.brief).p95),
                ms(summarize(s.brief_data).p50), f"{s.brief_bytes:,}"] for s in subjects]))
    base, top = subjects[0], subjects[-1]
    label = f"{top.size // 1000}k/{base.size // 1000}k"
    for name, b, t in (("3 digests", summarize(base.digests).p50, summarize(top.digests).p50),
                       ("brief", summarize(base.brief).p50, summarize(top.brief).p50),
                       ("brief data", summarize(base.brief_data).p50,
                        summarize(top.brief_data).p50)):
        say(f"{name:10} {label} = {ratio(t, b)}  ({verdict(t / b, GOAL)}, goal ≤ {GOAL:g}×)")
    say(f"load average after: {load()} (a shared machine slows every size; compare ratios)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
