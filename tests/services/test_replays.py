"""A replayed request (same trigger_id) changes nothing and says so, across processes too."""
from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import func, select

from bot.app import Core
from bot.conversation import Caller
from bot.domain.dates import DueDate
from bot.store.db import unit_of_work
from bot.store.models import Commitment
from tests.conftest import MEMBER, OTHER

COMMIT = "commit Draft guidelines by 2030-06-28"


def _rows(core: Core) -> list[tuple[int, str]]:
    with unit_of_work(core.sessions, read_only=True) as s:
        return [tuple(r) for r in s.execute(select(Commitment.id, Commitment.status))]  # type: ignore[misc]


def test_a_replayed_command_creates_one_commitment(core: Core) -> None:
    caller = Caller(MEMBER, request_id="T-commit-1")
    first = core.conversation.answer(caller, COMMIT)
    assert "Recorded #1" in first.reply.text and first.changed == (1,)
    for _ in range(2):
        again = core.conversation.answer(caller, COMMIT)
        assert "already handled" in again.reply.text and again.changed == ()
        assert not again.messages
    assert _rows(core) == [(1, "open")]
    # a new trigger is a new request: not "already handled", but the same text asks first
    other = core.conversation.answer(Caller(MEMBER, request_id="T-commit-2"), COMMIT)
    assert "looks the same" in other.reply.text and "already handled" not in other.reply.text


def test_a_replayed_button_changes_nothing_later(core: Core) -> None:
    core.conversation.answer(Caller(MEMBER, request_id="T1"), COMMIT)
    done = Caller(MEMBER, request_id="T-done")
    assert "done" in core.conversation.act(done, "wg_done", "1").reply.text
    core.conversation.answer(Caller(MEMBER, request_id="T-reopen"), "reopen 1")
    assert _rows(core) == [(1, "open")]
    replay = core.conversation.act(done, "wg_done", "1")
    assert "already handled" in replay.reply.text
    assert _rows(core) == [(1, "open")]  # the old Done click did not take effect again


def test_a_replayed_modal_submission_records_once(core: Core) -> None:
    due = core.conversation.check_due(MEMBER, "2030-06-28")
    assert isinstance(due, DueDate)
    caller = Caller(MEMBER, request_id="T-view")
    for _ in range(3):
        core.conversation.record(caller, what="From the modal", due=due, owner_id=OTHER, rec_id=None)
    assert len(_rows(core)) == 1
    core.conversation.move_to(Caller(MEMBER, request_id="T-move"), 1, "2030-07-01")
    out = core.conversation.move_to(Caller(MEMBER, request_id="T-move"), 1, "2030-07-01")
    assert "already handled" in out.reply.text


def test_reads_replay_to_the_same_answer(core: Core) -> None:
    core.conversation.answer(Caller(MEMBER, request_id="T1"), COMMIT)
    caller = Caller(MEMBER, request_id="T-list")
    assert core.conversation.answer(caller, "list").reply == \
        core.conversation.answer(caller, "list").reply


def test_concurrent_replays_in_two_processes_create_one(make_core: Callable[[], Core]) -> None:
    """Two workers (own engines) get the same signed request at once: one commitment."""
    cores = [make_core(), make_core()]
    for c in cores:
        c.conversation.answer(Caller(MEMBER), "help")
    cores[0].conversation.answer(Caller(MEMBER), "list")  # the member is known to both
    start = threading.Barrier(4)
    texts: list[str] = []

    def send(c: Core) -> None:
        start.wait()
        texts.append(c.conversation.answer(Caller(MEMBER, request_id="T-race"), COMMIT).reply.text)

    threads = [threading.Thread(target=send, args=(c,)) for c in cores * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(_rows(cores[0])) == 1
    assert sum("Recorded #1" in t for t in texts) == 1
    assert sum("already handled" in t for t in texts) == 3, texts


def test_commitments_count_unchanged_by_replays_of_export(core: Core) -> None:
    caller = Caller(MEMBER, request_id="T-export")
    assert core.conversation.answer(caller, "export ics").uploads
    replay = core.conversation.answer(caller, "export ics")
    assert not replay.uploads and "already handled" in replay.reply.text
    with unit_of_work(core.sessions, read_only=True) as s:
        assert s.scalar(select(func.count()).select_from(Commitment)) == 0


def test_long_trigger_ids_are_told_apart(core: Core) -> None:
    from bot.services import events
    from tests.services.conftest import NOW

    a, b = "1" * 100 + "a", "1" * 100 + "b"  # equal for the first 64 characters
    with unit_of_work(core.sessions) as s:
        assert events.claim_request(s, trigger_id=a, now=NOW)
        assert events.claim_request(s, trigger_id=b, now=NOW)
        assert not events.claim_request(s, trigger_id=a, now=NOW)


def test_a_twin_committed_between_the_replay_check_and_the_duplicate_check(
        make_core: Callable[[], Core]) -> None:
    """The worst moment: the same request commits in another process after this one found no
    claim and before it looks for the same text. PostgreSQL reads each statement afresh, so the
    commitment is seen; the answer is still "already handled", never "record another?"."""
    from sqlalchemy import event

    cores = [make_core(), make_core()]
    for c in cores:
        c.conversation.answer(Caller(MEMBER), "list")  # the member is known to both
    twin: list[str] = []
    seen_claims = False

    def between(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        nonlocal seen_claims
        if "processed_events" in statement:
            seen_claims = True
        elif seen_claims and "FROM commitments" in statement and not twin:
            twin.append(cores[1].conversation.answer(Caller(MEMBER, request_id="T-twin"),
                                                     COMMIT).reply.text)

    event.listen(cores[0].engine, "before_cursor_execute", between)
    try:
        first = cores[0].conversation.answer(Caller(MEMBER, request_id="T-twin"), COMMIT)
    finally:
        event.remove(cores[0].engine, "before_cursor_execute", between)
    assert twin and "Recorded #1" in twin[0]
    assert "already handled" in first.reply.text, first.reply.text
    assert len(_rows(cores[0])) == 1
