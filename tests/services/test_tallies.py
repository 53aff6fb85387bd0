"""The commitment tallies never drift: after any mix of the services' changes (create, move,
reassign, relink, done/cancel/reopen) and bulk SQL (insert, update, delete), the tallies equal a
fresh GROUP BY over the commitments, and the figures (per delegation too, config fixing one
member's) and the burn-up read from them equal a count of every commitment (deadlines on the
burn-up's first and last day, either side of the cut, included). The migration fills the tallies
from the commitments already there."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from bot.app import Core
from bot.domain.dates import DueDate
from bot.services import briefs, commitments, delegations, digests, members
from bot.store import migrate
from bot.store.db import make_engine, make_session_factory, unit_of_work
from bot.store.models import Commitment, CommitmentTally, Member
from tests.conftest import edit_settings
from tests.services.conftest import NOW
from tests.support import tallies

OWNERS = ("U0MEMBER1", "U0MEMBER2", "U0MEMBER3")
DELEGATION = {"U0MEMBER1": "Malta", "U0MEMBER2": None, "U0MEMBER3": "Tunisia"}
RECS = (None, "S1", "S3", "L6", "S9")


def _due(at: datetime) -> DueDate:
    return DueDate(at=at, local=at, words=at.isoformat(), date_only=False)


def moments(core: Core) -> st.SearchStrategy[datetime]:
    """Moments near now and on either side of the burn-up's first and last cut."""
    config = core.conversation.config
    end = config.session.starts_at
    start = min(NOW, end) - briefs.HISTORY
    near = st.integers(-30, 30).map(lambda h: timedelta(hours=h, minutes=7))
    return st.one_of(st.integers(-24 * 40, 24 * 40).map(lambda h: NOW + timedelta(hours=h)),
                     near.map(lambda d: start + d), near.map(lambda d: end + d))


def operations(core: Core) -> st.SearchStrategy[list[tuple[object, ...]]]:
    at = moments(core)
    idx = st.integers(0, 30)
    return st.lists(st.one_of(
        st.tuples(st.just("create"), st.sampled_from(OWNERS), st.sampled_from(RECS), at),
        st.tuples(st.just("move"), idx, at),
        st.tuples(st.just("assign"), idx, st.lists(st.sampled_from(OWNERS), min_size=1,
                                                   max_size=2)),
        st.tuples(st.just("link"), idx, st.lists(st.sampled_from(["S1", "S3", "L6"]),
                                                 max_size=2)),
        st.tuples(st.just("status"), idx, st.sampled_from(["open", "done", "cancelled"]), at),
        st.tuples(st.just("bulk insert"), st.sampled_from(OWNERS), st.sampled_from(RECS), at,
                  st.sampled_from(["open", "done", "cancelled"])),
        st.tuples(st.just("bulk update"), st.integers(2, 4), st.sampled_from(OWNERS),
                  st.sampled_from(RECS), at),
        st.tuples(st.just("bulk done"), st.integers(2, 4), at),
        st.tuples(st.just("bulk delete"), idx)), max_size=30)


def apply(core: Core, ops: list[tuple[object, ...]]) -> None:
    """Each operation in its own unit of work, the way the bot and a console would write."""
    for op, *args in ops:
        with unit_of_work(core.sessions) as s:
            ids = list(s.scalars(select(Commitment.id).order_by(Commitment.id)))
            target = s.get(Commitment, ids[int(args[0]) % len(ids)]) \
                if ids and op in ("move", "assign", "link", "status") else None
            if op == "create":
                owner, rec, at = args
                commitments.create(s, text="Item", owner_id=owner, creator_id=owner, rec_id=rec,
                                   due=_due(at), first_nudge_at=None, now=NOW)
            elif op == "bulk insert":
                owner, rec, at, status = args
                s.execute(insert(Commitment), [
                    {"text": "Bulk", "owner_id": owner, "creator_id": owner, "rec_id": rec,
                     "due_at": at + timedelta(hours=k), "due_words": "x", "status": status,
                     "created_at": NOW, "updated_at": NOW,
                     "completed_at": at if status == "done" else None, "nudges": 0}
                    for k in range(3)])
            elif op == "bulk update":
                k, owner, rec, at = args
                s.execute(update(Commitment).where(Commitment.id % k == 0)
                          .values(owner_id=owner, rec_id=rec, due_at=at))
            elif op == "bulk done":
                k, at = args
                s.execute(update(Commitment).where(Commitment.id % k == 1)
                          .values(status="done", completed_at=at))
            elif op == "bulk delete" and ids:
                s.execute(delete(Commitment).where(Commitment.id == ids[int(args[0]) % len(ids)]))
            elif target is None:
                continue
            elif op == "move":
                commitments.move(s, commitment=target, due=_due(args[1]), actor_id=OWNERS[0],
                                 first_nudge_at=None, now=NOW)
            elif op == "assign":
                commitments.assign(s, commitment=target, owner_ids=args[1], actor_id=OWNERS[0],
                                   now=NOW)
            elif op == "link":
                commitments.set_links(s, commitment=target, rec_ids=args[1], actor_id=OWNERS[0],
                                      now=NOW)
            elif op == "status":
                commitments.set_status(s, commitment=target, status=args[1], actor_id=OWNERS[0],
                                       now=args[2])


def check(core: Core) -> None:
    """Tallies, figures and burn-up against a count of every commitment."""
    config = core.conversation.config
    with unit_of_work(core.sessions, read_only=True) as s:
        assert tallies.kept(s) == tallies.recounted(s)
        f = digests.figures(s, config=config, now=NOW)
        assert dict(f.per_delegation) == tallies.per_delegation(
            s, now=NOW, delegation_of=delegations.all_members(s, config=config))
        end = config.session.starts_at
        tallies.burn_up_holds(briefs.burn_up(s, config=config, now=NOW), s,
                              start=min(NOW, end) - briefs.HISTORY, end=end)


def test_tallies_follow_every_kind_of_write(make_core: Callable[[], Core], config_dir: Path) -> None:
    # U0MEMBER3 set their own delegation, but config fixes them to Malta, U0MEMBER1's own
    edit_settings(config_dir, {"delegations": [{"name": "Malta", "members": ["U0MEMBER3"]}]})
    core = make_core()
    with unit_of_work(core.sessions) as s:
        for uid in OWNERS:
            members.remember(s, user_id=uid, profile=None, now=NOW)
            s.get(Member, uid).delegation = DELEGATION[uid]  # type: ignore[union-attr]

    end = core.conversation.config.session.starts_at
    start = min(NOW, end) - briefs.HISTORY
    hours = timedelta(hours=3)

    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(ops=operations(core))
    # the burn-up's first and last day, either side of the cut (same UTC day)
    @example(ops=[("create", OWNERS[0], "S1", start - hours), ("create", OWNERS[1], None, end + hours),
                  ("status", 0, "done", start - hours), ("status", 1, "done", end + hours)])
    @example(ops=[("create", OWNERS[0], "S1", start + hours), ("create", OWNERS[1], None, end - hours),
                  ("bulk insert", OWNERS[2], "L6", start - hours, "done")])
    def run(ops: list[tuple[object, ...]]) -> None:
        with unit_of_work(core.sessions) as s:
            s.execute(delete(Commitment))
        apply(core, ops)
        check(core)

    run()


@pytest.mark.empty_database
def test_the_migration_tallies_the_commitments_already_there(database_url: str) -> None:
    migrate.upgrade(database_url, "0005_audit_at_commitment")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Member), [{"id": uid, "name": uid, "refreshed_at": NOW}
                                          for uid in OWNERS])
            conn.execute(insert(Commitment), [
                {"text": f"c{i}", "owner_id": OWNERS[i % 3], "creator_id": OWNERS[i % 3],
                 "rec_id": RECS[i % 5], "due_at": NOW + timedelta(days=i - 10), "due_words": "x",
                 "status": ("open", "done", "cancelled")[i % 3], "created_at": NOW,
                 "updated_at": NOW, "completed_at": NOW - timedelta(days=i) if i % 3 == 1 else None,
                 "nudges": 0} for i in range(40)])
        migrate.upgrade(database_url)
        with unit_of_work(make_session_factory(engine), read_only=True) as s:
            assert tallies.kept(s) == tallies.recounted(s)
            assert len(tallies.kept(s)) > 40
            assert s.scalar(select(CommitmentTally.n).where(
                CommitmentTally.dimension == "rec", CommitmentTally.bucket == "",
                CommitmentTally.status == "open")) == 3
    finally:
        engine.dispose()

