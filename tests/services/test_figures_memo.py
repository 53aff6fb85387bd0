"""One sweep's digests share their figures: counted once, counted again as soon as the data, the
members' delegations or the minute moves (never a stale number)."""
from __future__ import annotations

from datetime import timedelta

from bot.app import Core
from bot.domain.dates import DueDate
from bot.services import commitments, delegations, digests
from bot.store.db import unit_of_work
from bot.store.models import Member
from tests.services.conftest import NOW

OWNER = "U0MEMO001"


def _due(days: float) -> DueDate:
    at = NOW + timedelta(days=days)
    return DueDate(at=at, local=at, words=f"in {days} days", date_only=False)


def test_digests_share_the_figures_until_data_delegations_or_minute_move(core: Core) -> None:
    config = core.config.current()
    with unit_of_work(core.sessions) as s:
        s.add(Member(id=OWNER, name="Memo owner", tz=None, refreshed_at=NOW))
        s.flush()
        ids = [commitments.create(s, text=f"Draft note {k}", owner_id=OWNER, creator_id=OWNER,
                                  rec_id="S1", due=_due(days), first_nudge_at=None, now=NOW).id
               for k, days in enumerate((-2, 3, 20))]
    memo = digests.FiguresMemo()
    with unit_of_work(core.sessions, read_only=True) as s:
        first = memo.figures(s, config=config, now=NOW)
    with unit_of_work(core.sessions, read_only=True) as s:  # another coordinator, same sweep
        assert memo.figures(s, config=config, now=NOW + timedelta(seconds=20)) is first
    assert (first.totals.open, first.totals.overdue, first.totals.done) == (3, 1, 0)

    with unit_of_work(core.sessions) as s:  # a commitment is done mid-sweep
        c = commitments.get(s, commitment_id=ids[0])
        assert c is not None
        commitments.set_status(s, commitment=c, status="done", actor_id=OWNER, now=NOW)
    with unit_of_work(core.sessions, read_only=True) as s:
        second = memo.figures(s, config=config, now=NOW + timedelta(seconds=30))
        fresh = digests.figures(s, config=config, now=NOW + timedelta(seconds=30))
    assert second is not first
    assert (second.totals.open, second.totals.overdue, second.totals.done) == (2, 0, 1)
    assert (second.per_rec, second.per_delegation) == (fresh.per_rec, fresh.per_delegation)

    with unit_of_work(core.sessions) as s:  # the owner says which delegation they act for
        delegations.set_own(s, config=config, user_id=OWNER, name="Malta", now=NOW)
    with unit_of_work(core.sessions, read_only=True) as s:
        third = memo.figures(s, config=config, now=NOW + timedelta(seconds=40))
    assert third is not second
    assert dict(third.per_delegation)["Malta"].total == 3

    with unit_of_work(core.sessions, read_only=True) as s:  # the next minute counts again
        later = memo.figures(s, config=config, now=NOW + timedelta(days=3, minutes=1))
    assert later is not third and later.totals.overdue == 1


def test_a_digest_built_with_the_sweeps_memo_is_the_digest_built_alone(core: Core) -> None:
    config = core.config.current()
    coordinator = config.coordinators[0].id
    with unit_of_work(core.sessions) as s:
        s.add(Member(id=OWNER, name="Memo owner", tz=None, refreshed_at=NOW))
        s.flush()
        for k, days in enumerate((-9, -2, 3, 10, 20, 40)):
            c = commitments.create(s, text=f"Draft note {k}", owner_id=OWNER, creator_id=OWNER,
                                   rec_id="S1" if k % 2 else None, due=_due(days),
                                   first_nudge_at=None, now=NOW - timedelta(days=10))
            if k == 4:
                commitments.set_status(s, commitment=c, status="done", actor_id=OWNER, now=NOW)
    memo = digests.FiguresMemo()
    with unit_of_work(core.sessions, read_only=True) as s:
        alone = digests.gather(s, config=config, coordinator_id=coordinator, now=NOW, listed=0)
        shared = [digests.gather(s, config=config, coordinator_id=coordinator, now=NOW, listed=0,
                                 memo=memo) for _ in range(2)]
    assert [r.why for r in alone.rows] == ["overdue", "overdue", "due soon", "due soon", "changed"]
    for digest in shared:
        assert (digest.rows, digest.rows_total) == (alone.rows, alone.rows_total) == \
            (alone.rows, 5)
        assert digest.figures.totals == alone.figures.totals
