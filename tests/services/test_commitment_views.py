"""Services hand out values: a commitment and its history are read whole inside the unit of work
(owners and links for a page in one query each, never one per commitment) and cannot change after."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from bot.app import Core
from bot.domain import planning
from bot.domain.dates import DueDate
from bot.domain.views import CommitmentView, HistoryEntry
from bot.services import commitments, owner_notices, relevance
from bot.store.db import unit_of_work
from bot.store.models import Member
from tests.services.conftest import NOW

LEAD, SECOND, ACTOR = "U0VIEWS01", "U0VIEWS02", "U0VIEWS03"


def _due(days: float) -> DueDate:
    at = NOW + timedelta(days=days)
    return DueDate(at=at, local=at, words=f"in {days} days", date_only=False)


@contextmanager
def _statements(core: Core) -> Iterator[list[tuple[str, int]]]:
    """The SQL statements run on the core's engine meanwhile, with how many parameters each had."""
    seen: list[tuple[str, int]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append((statement, len(parameters or ())))

    event.listen(core.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(core.engine, "before_cursor_execute", record)


def _seed(core: Core, n: int) -> list[int]:
    """n open commitments, each held by two people and serving two recommendations."""
    with unit_of_work(core.sessions) as s:
        for m in (LEAD, SECOND, ACTOR):
            s.add(Member(id=m, name=m, tz=None, refreshed_at=NOW))
        s.flush()
        return [commitments.create(s, text=f"Draft chapter {k} of the guidelines", owner_id=LEAD,
                                   co_owner_ids=[SECOND], creator_id=ACTOR, rec_id="L6",
                                   also_rec_ids=["S1"], due=_due(3 + k), first_nudge_at=None,
                                   now=NOW).id
                for k in range(n)]


def test_a_page_is_values_with_every_owner_and_link_read_in_the_unit_of_work(core: Core) -> None:
    ids = _seed(core, 12)
    with unit_of_work(core.sessions, read_only=True) as s:
        page = commitments.listing(s, scope="all", user_id=LEAD, arg="", now=NOW)
    # the session is closed: these are plain values, complete without it
    assert [c.id for c in page.items] == ids[:10] and page.total == 12
    first = page.items[0]
    assert isinstance(first, CommitmentView)
    assert (first.owner_ids, first.owner_id, first.rec_ids, first.rec_id) == (
        (LEAD, SECOND), LEAD, ("L6", "S1"), "L6")
    assert (first.creator_id, first.status, first.due_at) == (ACTOR, "open", NOW + timedelta(days=3))
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.text = "changed"  # type: ignore[misc]
    assert not hasattr(first, "__dict__")  # slots: nothing can be hung on it either


@pytest.mark.parametrize("scope", ["all", "mine"])
def test_owners_and_links_cost_the_same_queries_for_a_page_of_two_or_ten(core: Core,
                                                                          scope: str) -> None:
    _seed(core, 12)
    counts = []
    for per_page in (2, 10):
        with unit_of_work(core.sessions, read_only=True) as s, _statements(core) as seen:
            page = commitments.listing(s, scope=scope, user_id=LEAD, arg="", now=NOW,
                                       per_page=per_page)
            assert len(page.items) == per_page
        counts.append(len([q for q, _ in seen if q.lstrip().upper().startswith("SELECT")]))
    # the count, the page, its owners and its links: not one query per commitment
    assert counts[0] == counts[1] <= 4, counts


def test_find_reads_only_the_page_it_shows_whole(core: Core) -> None:
    _seed(core, 30)
    with unit_of_work(core.sessions, read_only=True) as s, _statements(core) as seen:
        page = commitments.find(s, words="guidelines chapter", page=2, per_page=5)
    assert page.total == 30 and len(page.items) == 5
    assert all(c.owner_ids == (LEAD, SECOND) and c.rec_ids == ("L6", "S1") for c in page.items)
    # ranked from the text alone; the owners of the five shown (not of all 30 found), in one query
    owners = [n for q, n in seen if "FROM commitment_owners" in q]
    assert owners == [5], seen


def test_a_change_returns_the_commitment_as_it_is_now_and_leaves_the_old_value_alone(
        core: Core) -> None:
    cid = _seed(core, 1)[0]
    with unit_of_work(core.sessions) as s:
        before = commitments.get(s, commitment_id=cid)
        assert before is not None
        moved = commitments.move(s, commitment=before, due=_due(9), actor_id=ACTOR,
                                 first_nudge_at=None, now=NOW)
        commitments.assign(s, commitment=moved, owner_ids=[SECOND], actor_id=ACTOR, now=NOW)
        commitments.set_links(s, commitment=moved, rec_ids=["S3"], actor_id=ACTOR, now=NOW)
        after = commitments.reread(s, commitment=moved)
        note = commitments.add_note(s, commitment=after, text="Sent to the Chair", actor_id=ACTOR,
                                    now=NOW)
    assert before.due_at == NOW + timedelta(days=3) and before.owner_ids == (LEAD, SECOND)
    assert moved.due_at == NOW + timedelta(days=9) and moved.owner_ids == (LEAD, SECOND)
    assert (after.owner_ids, after.rec_ids, after.due_at) == ((SECOND,), ("S3",),
                                                              NOW + timedelta(days=9))
    assert isinstance(note, HistoryEntry) and note.note == "Sent to the Chair"
    with unit_of_work(core.sessions, read_only=True) as s:
        assert commitments.get(s, commitment_id=cid) == after


def test_history_entries_are_read_only_values(core: Core) -> None:
    cid = _seed(core, 1)[0]
    with unit_of_work(core.sessions) as s:
        c = commitments.get(s, commitment_id=cid)
        assert c is not None
        commitments.assign(s, commitment=c, owner_ids=[SECOND, LEAD], actor_id=ACTOR, now=NOW)
        commitments.add_note(s, commitment=c, text="Draft   sent", actor_id=ACTOR, now=NOW)
    with unit_of_work(core.sessions, read_only=True) as s:
        trail = commitments.history(s, commitment_id=cid)
        notes = commitments.latest_notes(s, commitment_ids=[cid])
    assert [e.action for e in trail] == ["created", "reassigned", "note"]
    handed = trail[1]
    assert handed.changes["owners"] == ((LEAD, SECOND), (SECOND, LEAD))
    with pytest.raises(TypeError):
        handed.changes["owners"] = ()  # type: ignore[index]
    assert notes[cid] == trail[2] and notes[cid].note == "Draft sent"
    assert trail[0].note == ""


def test_notices_and_reminders_get_values_too(core: Core) -> None:
    cid = _seed(core, 1)[0]
    due = NOW + timedelta(days=3)
    with unit_of_work(core.sessions, read_only=True) as s:
        changes = owner_notices.changes(s, recipient=SECOND, moment=NOW + timedelta(minutes=5))
        reminded, planned = relevance.commitment_of(s, planning.commitment_subject(cid, due))
    assert [(ch.action, ch.actor_id) for ch in changes] == [("created", ACTOR)]
    assert isinstance(changes[0].commitment, CommitmentView)
    assert changes[0].commitment.owner_ids == (LEAD, SECOND)
    assert isinstance(reminded, CommitmentView) and planned == due
    assert (reminded.id, reminded.owner_ids, reminded.nudges) == (cid, (LEAD, SECOND), 0)
