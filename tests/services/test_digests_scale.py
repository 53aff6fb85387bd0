"""At 100k commitments a digest, its channel summary and the brief's summary still fit one Slack
message: every part within Block Kit's limits, nothing trimmed; the CSV stays bounded."""
from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

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
# Both tests read one 100k-row database, built once per test worker.


DELEGATIONS = ("Austria", "Malta", "Mongolia", "Switzerland", "Tunisia", "OSCE Secretariat",
               "ODIHR", "Kazakhstan", "Italy", "Germany", "Holy See", "Albania")


def bulk(engine: Engine, *, members: int, commitments: int) -> None:
    """Members and commitments straight into the real tables (executemany), shaped like bench's."""
    rng = random.Random(12)
    ids = [f"U0M{i:05d}" for i in range(1, members + 1)]
    recs = [f"S{i}" for i in range(1, 7)] + [f"L{i}" for i in range(1, 11)]
    with engine.begin() as conn:
        conn.execute(insert(Member), [{"id": uid, "name": f"Member {uid}", "tz": None,
                                       "refreshed_at": NOW, "delegation": DELEGATIONS[i % 12]}
                                      for i, uid in enumerate(ids)])
        rows = []
        for cid in range(1, commitments + 1):
            owner = rng.choice(ids)
            due = NOW + timedelta(days=rng.uniform(-60, 300))
            r = rng.random()
            status = "open" if r < 0.7 else "done" if r < 0.9 else "cancelled"
            rows.append({"id": cid, "text": f"Commitment {cid} on border management", "owner_id": owner,
                         "creator_id": owner, "rec_id": rng.choice(recs) if rng.random() < 0.8 else None,
                         "due_at": due, "due_words": "x", "status": status,
                         "created_at": NOW - timedelta(days=90), "updated_at": NOW - timedelta(days=30),
                         "completed_at": NOW - timedelta(days=30) if status == "done" else None,
                         "next_nudge_at": None, "nudges": 0})
            if len(rows) == 10_000:
                conn.execute(insert(Commitment), rows)
                rows = []
        if rows:
            conn.execute(insert(Commitment), rows)


@pytest.fixture(scope="session")  # kept until the worker ends: its tests may not run back to back
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Config]]:
    """100k commitments over 1k members, bulk-inserted; 2k of them moved twice; delegations set."""
    config = repo_config(NOW)
    url = f"sqlite:///{tmp_path_factory.mktemp('big') / 'big.db'}"
    # Seeded before the tallies exist, as a database upgraded to them would be: bulk inserts
    # skip the triggers, and the upgrade counts 100k commitments in one pass.
    migrate.upgrade(url, "0005_audit_at_commitment")
    engine = make_engine(url)
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
