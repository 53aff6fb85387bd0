"""At 100k commitments a digest, its channel summary and the brief's summary still fit one Slack
message: every part within Block Kit's limits, nothing trimmed; the CSV stays bounded."""
from __future__ import annotations

import fcntl
import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select

from bench._common import repo_config
from bot.config.types import Config
from bot.replies import brief as brief_replies
from bot.replies import notifications
from bot.services import briefs, digests
from bot.slack import render
from bot.store import migrate
from bot.store.db import make_engine, make_session_factory, unit_of_work
from bot.store.models import AuditEntry, Commitment, Member
from tests.slack_fake.server import validate_blocks

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
SIZE = 100_000
# Both tests read one 100k-row database, built once per run (`big`).


DELEGATIONS = ("Austria", "Malta", "Mongolia", "Switzerland", "Tunisia", "OSCE Secretariat",
               "ODIHR", "Kazakhstan", "Italy", "Germany", "Holy See", "Albania")


def bulk(engine: Engine, *, members: int, commitments: int) -> None:
    """Members and commitments straight into the real tables, shaped like bench's.

    The commitments go in as plain rows in one executemany, their datetimes written as
    `UTCDateTime` stores them (naive UTC, SQLite's text form), and the table's indexes are
    dropped first and made again from their own SQL after: one sort per index instead of 100k
    random inserts into each, the same schema and rows (4.6 s to 1.5 s of CPU).
    """
    rng = random.Random(12)
    ids = [f"U0M{i:05d}" for i in range(1, members + 1)]
    recs = [f"S{i}" for i in range(1, 7)] + [f"L{i}" for i in range(1, 11)]
    naive = NOW.astimezone(UTC).replace(tzinfo=None)

    def stored(at: datetime) -> str:
        return at.isoformat(" ", "microseconds")

    created, updated = stored(naive - timedelta(days=90)), stored(naive - timedelta(days=30))
    rows = []
    for cid in range(1, commitments + 1):
        owner = rng.choice(ids)
        due = naive + timedelta(days=rng.uniform(-60, 300))
        r = rng.random()
        status = "open" if r < 0.7 else "done" if r < 0.9 else "cancelled"
        rec = rng.choice(recs) if rng.random() < 0.8 else None
        rows.append((cid, f"Commitment {cid} on border management", owner, owner, rec, stored(due),
                     "x", status, created, updated, updated if status == "done" else None, None, 0))
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MiB while the indexes are made
        conn.execute(insert(Member), [{"id": uid, "name": f"Member {uid}", "tz": None,
                                       "refreshed_at": NOW, "delegation": DELEGATIONS[i % 12]}
                                      for i, uid in enumerate(ids)])
        indexes = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'commitments'"
            " AND sql IS NOT NULL").all()
        for name, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        conn.exec_driver_sql(
            "INSERT INTO commitments (id, text, owner_id, creator_id, rec_id, due_at, due_words,"
            " status, created_at, updated_at, completed_at, next_nudge_at, nudges)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        for _, sql in indexes:
            conn.exec_driver_sql(sql)
        conn.exec_driver_sql("PRAGMA cache_size=-2000")  # SQLite's default again


def build(path: Path) -> None:
    """The 100k database at `path`: 100k commitments over 1k members, bulk-inserted; 2k of them
    moved twice; delegations set."""
    url = f"sqlite:///{path}"
    # Seeded before the tallies exist, as a database upgraded to them would be: bulk inserts
    # skip the triggers, and the upgrade counts 100k commitments in one pass.
    migrate.upgrade(url, "0005_audit_at_commitment")
    engine = make_engine(url)
    try:
        bulk(engine, members=1000, commitments=SIZE)
        migrate.upgrade(url)
        with engine.begin() as conn:
            moved = []
            for cid in range(1, 2001):
                for k in range(2):
                    moved.append({"commitment_id": cid, "actor_id": "U0M00001",
                                  "at": NOW - timedelta(days=3 - k), "action": "moved",
                                  "changes": {"due": [(NOW + timedelta(days=k)).isoformat(),
                                                      (NOW + timedelta(days=k + 5)).isoformat()]}})
            conn.execute(insert(AuditEntry), moved)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")  # kept until the worker ends: its tests may not run back to back
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Config]]:
    """The 100k database, built once per run: the test workers share one folder (their base
    temporary folder's parent), and the first to get there builds it under a lock while the
    others wait for it; the tests only read it."""
    config = repo_config(NOW)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    shared = tmp_path_factory.getbasetemp().parent if worker else tmp_path_factory.mktemp("big")
    path = shared / "digests-100k.db"
    with open(shared / "digests-100k.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (shared / "digests-100k.built").exists():
            build(path)
            (shared / "digests-100k.built").touch()
    engine = make_engine(f"sqlite:///{path}")
    yield engine, config
    engine.dispose()


def fits(reply_blocks: list[dict[str, object]], parts: int) -> None:
    assert validate_blocks(reply_blocks, max_blocks=50) == []
    assert len(reply_blocks) == parts  # nothing was trimmed
    assert "more than fits" not in json.dumps(reply_blocks)
    for b in reply_blocks:
        text = b.get("text")
        if isinstance(text, dict):
            assert len(str(text["text"])) <= 3000 and not str(text["text"]).endswith("…")


def test_digest_fits_one_message_at_100k(big: tuple[Engine, Config]) -> None:
    engine, config = big
    with unit_of_work(make_session_factory(engine), read_only=True) as s:
        assert s.query(Commitment).count() == SIZE
        data = digests.gather(s, config=config, coordinator_id="U0COORD01", now=NOW)
        summary = notifications.digest_summary(digests.figures(s, config=config, now=NOW),
                                               config=config, tz=config.timezone)
    f = data.figures
    with unit_of_work(make_session_factory(engine), read_only=True) as s:
        live_moved = s.scalar(select(func.count()).select_from(Commitment).where(
            Commitment.id <= 2000, Commitment.status != "cancelled"))
    assert f.totals.overdue > 10_000 and f.due_soon_count > 1_000
    assert f.slipped_count == live_moved
    assert len(f.per_delegation) == 12
    reply = notifications.digest(data, config=config, tz=config.timezone)
    fits(render.blocks(reply), len(reply.parts))
    fits(render.blocks(summary), len(summary.parts))
    blob = json.dumps(render.blocks(reply), ensure_ascii=False)
    assert f"*Overdue* ({f.totals.overdue})" in blob
    assert f"({f.slipped_count})" in blob and "moved 2 times, 10 days later in all" in blob
    (csv_file,) = reply.files
    assert csv_file.content.decode("utf-8-sig").count("\n") == 1 + digests.MAX_CSV_ROWS
    assert data.rows_total > digests.MAX_CSV_ROWS


def test_brief_summary_fits_and_tables_stay_a_page_at_100k(big: tuple[Engine, Config]) -> None:
    engine, config = big
    with unit_of_work(make_session_factory(engine), read_only=True) as s:
        brief = briefs.gather(s, config=config, now=NOW, tz=config.timezone)
    reply = brief_replies.summary(brief)
    fits(render.blocks(reply), len(reply.parts))
    assert all(len(r.rows) == 25 for r in brief.recs)
    assert sum(r.readiness.total for r in brief.recs) + brief.figures.unlinked.total == \
        brief.figures.totals.total
