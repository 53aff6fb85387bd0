"""The Socket Mode envelope ledger: bounded memory of answers, failures forgotten."""
from __future__ import annotations

from slack_bolt.response import BoltResponse

from bot.slack.socket import EnvelopeLedger


def test_a_second_claim_gets_the_first_answer() -> None:
    ledger = EnvelopeLedger()
    handling, first = ledger.claim("e1")
    assert first
    ledger.settle("e1", handling, BoltResponse(status=200, body='{"text": "done"}'))
    again, first_again = ledger.claim("e1")
    assert not first_again and again.done.is_set() and again.response is not None
    assert again.response.body == '{"text": "done"}'


def test_a_failed_handling_is_forgotten_so_a_redelivery_runs_again() -> None:
    ledger = EnvelopeLedger()
    handling, _ = ledger.claim("e1")
    ledger.settle("e1", handling, BoltResponse(status=500, body=""))
    assert handling.done.is_set()
    assert ledger.claim("e1")[1]
    crashed, _ = ledger.claim("e2")
    ledger.settle("e2", crashed, None)
    assert ledger.claim("e2")[1]


def test_memory_is_bounded_oldest_first() -> None:
    ledger = EnvelopeLedger(size=3)
    for eid in ("a", "b", "c", "d"):
        handling, _ = ledger.claim(eid)
        ledger.settle(eid, handling, BoltResponse(status=200, body=""))
    assert ledger.claim("a")[1]  # forgotten
    assert not ledger.claim("d")[1]
