"""In-process latency of `/wg list mine`, `/wg list overdue`, `/wg commit … by <date>` at 1k–100k.

Each size gets a fresh SQLite database, bulk-seeded over 1k members (see bench/_seed.py), and the
real core from `bot.app.build_core` with console stand-ins for Slack. The 1k size is the baseline:
the ratio 100k/1k per command shows how the commands scale with the number of commitments.

    python -m bench.commitments            # full: 1k, 10k, 100k; 50 timed calls per command
    python -m bench.commitments --quick    # 1k and 10k; 20 timed calls per command

The sizes are measured interleaved (all databases open, rounds rotating their order), so that a
change in the machine's speed during the run does not read as a difference between sizes. The
callers own a full first page of open commitments at every size, so every size renders the same
amount and the ratio shows how the database work scales.
"""
from __future__ import annotations

import argparse
import io
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, UTC
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from bench._common import (
    Summary,
    copy_config,
    ms,
    python_info,
    ratio,
    repo_config,
    say,
    summarize,
    table,
    verdict,
)
from bench._seed import RECS, Planted, fresh_database, member_ids, seed
from bot.app import Core, build_core
from bot.clock import FixedClock
from bot.console.adapters import ConsoleDirectory, ConsoleNotifier
from bot.conversation import Caller, Outcome
from bot.settings import Settings

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday, before the session
MEMBERS = 1000
PAGE = 10  # a listing page; every benchmark caller owns this many open commitments, at every size
CALLERS = member_ids(20)
GOAL = 2.0
COMMANDS: dict[str, Callable[[int], str]] = {
    "list mine": lambda i: "list mine",
    "list overdue": lambda i: "list overdue",
    "commit … by <date>": lambda i: f"commit Brief the delegation on border management, "
                                    f"round {i} by 15 January 2027 for S3",
}
LIST_COMMANDS = ("list mine", "list overdue")
APOLOGY = "something went wrong"


@dataclass
class Subject:
    """One database size, the core over it and the latencies measured against it."""

    size: int
    core: Core
    samples: dict[str, list[float]]

    def summary(self, command: str) -> Summary:
        """Statistics of one command's latencies."""
        return summarize(self.samples[command])


@contextmanager
def captured_sql(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (and its parameters) executed on the engine inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               _executemany: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def query_plans(core: Core, text: str, user_id: str) -> list[str]:
    """EXPLAIN QUERY PLAN of each SELECT that answering `/wg <text>` runs, flagging table scans."""
    with captured_sql(core.engine) as seen:
        core.conversation.answer(Caller(user_id), text)
    lines: list[str] = []
    raw = core.engine.raw_connection()
    try:
        cur = raw.cursor()
        for statement, params in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            cur.execute("EXPLAIN QUERY PLAN " + statement, params)
            plan = [str(row[3]) for row in cur.fetchall()]
            scans = [p for p in plan if p.startswith("SCAN ") and "CONSTANT ROW" not in p
                     and not p.startswith("SCAN anon_")]
            flat = " ".join(statement.split())
            lines.append(f"  {flat[:150]}{' …' if len(flat) > 150 else ''}")
            lines.extend(f"      {p}" for p in plan)
            lines.append("      => " + ("FULL SCAN: " + "; ".join(scans) if scans
                                        else "index searches only"))
    finally:
        raw.close()
    return lines


def timed(core: Core, command: str, *, calls: int, users: list[str], offset: int) -> list[float]:
    """Latencies of `calls` answers to one command, rotating over the callers."""
    make = COMMANDS[command]
    samples: list[float] = []
    for i in range(calls):
        user = users[(offset + i) % len(users)]
        text = make(offset + i)
        started = time.perf_counter()
        outcome: Outcome = core.conversation.answer(Caller(user), text)
        samples.append(time.perf_counter() - started)
        if APOLOGY in outcome.reply.text or (text.startswith("commit") and not outcome.changed):
            raise RuntimeError(f"/wg {text} as {user} failed: {outcome.reply.text}")
    return samples


def callers_with_a_full_page() -> list[Planted]:
    """PAGE open commitments (due 3 to ~70 days ahead) for each benchmark caller."""
    return [Planted(uid, NOW + timedelta(days=3 + 7 * k, hours=6), RECS[k % len(RECS)])
            for uid in CALLERS for k in range(PAGE)]


def open_subject(size: int, workdir: Path) -> Subject:
    """Seed a database of `size` commitments and build the real core over it."""
    config = repo_config(NOW)
    url = f"sqlite:///{workdir / f'wgbot-{size}.db'}"
    engine = fresh_database(url)
    report = seed(engine, now=NOW, config=config, members=MEMBERS, commitments=size,
                  planted=callers_with_a_full_page())
    engine.dispose()
    say(f"{size:,} commitments over {MEMBERS:,} members (+ admins and coordinators): "
        f"{report.statuses['open']:,} open, {report.statuses['done']:,} done, "
        f"{report.statuses['cancelled']:,} cancelled; {report.audit_entries:,} audit entries, "
        f"{report.deliveries:,} past deliveries; seeded in {report.seconds:.1f} s")
    settings = Settings.from_env({"DATABASE_URL": url, "WGBOT_CONFIG_DIR": str(workdir / "config")})
    core = build_core(settings, clock=FixedClock(NOW),
                      notifier=ConsoleNotifier(io.StringIO(), files_dir=workdir / "files"),
                      directory=ConsoleDirectory())
    return Subject(size, core, {c: [] for c in COMMANDS})


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables and the ratios."""
    p = argparse.ArgumentParser(prog="python -m bench.commitments", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="sizes 1k and 10k, fewer calls")
    args = p.parse_args(argv)
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    rounds = 4 if args.quick else 5
    per_round = 5 if args.quick else 10
    warmup = 5
    say(f"bench.commitments — {python_info()}; SQLite; now = {NOW.isoformat()}; "
        f"{rounds} rounds × {per_round} timed calls per command and size (after {warmup} "
        f"warm-up calls), sizes interleaved, rotating their order each round; callers: "
        f"{len(CALLERS)} members who own {PAGE} open commitments each (a full first page) "
        f"besides their random share")
    subjects: list[Subject] = []
    with tempfile.TemporaryDirectory(prefix="wgbot-bench-") as tmp:
        workdir = Path(tmp)
        copy_config(workdir)
        try:
            for size in sizes:
                subjects.append(open_subject(size, workdir))
            for n, command in enumerate(COMMANDS):
                for subject in subjects:
                    timed(subject.core, command, calls=warmup, users=CALLERS,
                          offset=100_000 * n + 50_000)
            for r in range(rounds):
                for subject in subjects[r % len(subjects):] + subjects[:r % len(subjects)]:
                    for n, command in enumerate(COMMANDS):
                        subject.samples[command].extend(timed(
                            subject.core, command, calls=per_round, users=CALLERS,
                            offset=100_000 * n + r * per_round))
            for subject in subjects:
                say(f"\n== {subject.size:,} commitments")
                say(table(["command", "calls", "median ms", "p95 ms", "mean ms", "max ms"],
                          [[c, s.n, ms(s.p50), ms(s.p95), ms(s.mean), ms(s.max)]
                           for c in COMMANDS for s in [subject.summary(c)]]))
            top = subjects[-1]
            for command in LIST_COMMANDS:
                say(f"\nEXPLAIN QUERY PLAN of every SELECT run by `/wg {command}` "
                    f"({top.size:,} commitments):")
                say("\n".join(query_plans(top.core, command, CALLERS[0])))
        finally:
            for subject in subjects:
                subject.core.close()
    base, top = subjects[0], subjects[-1]
    label = f"{top.size // 1000}k/{base.size // 1000}k"
    say(f"\n== Median latency (ms) per size, and the ratio {label} (goal ≤ {GOAL:g}×)")
    rows = []
    for command in COMMANDS:
        a, b = base.summary(command).p50, top.summary(command).p50
        rows.append([command, *[ms(s.summary(command).p50) for s in subjects], ratio(b, a),
                     verdict(b / a, GOAL)])
    say(table(["command", *[f"{s.size // 1000}k" for s in subjects], label, "goal"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
