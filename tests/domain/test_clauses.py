"""Commitment clauses in any order, people as members type them, problems that quote one clause."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.clauses import ClauseProblem, CommitClauses, PersonRef, commit_clauses, people, person

ANNA = PersonRef(name="anna")
ME = PersonRef(me=True)


@pytest.mark.parametrize("text,what,due,recs,owners", [
    ("Draft guidelines by 30 June for L6", "Draft guidelines", "30 June", ("L6",), ()),
    ("Help Anna by Friday owner @U0CONSOLE", "Help Anna", "Friday", (),
     (PersonRef(user_id="U0CONSOLE"),)),
    ("Help Anna by Friday owner <@U0CONSOLE>", "Help Anna", "Friday", (),
     (PersonRef(user_id="U0CONSOLE"),)),
    ("Note by 15 Jan for L6 and L8", "Note", "15 Jan", ("L6", "L8"), ()),
    ("Note by 15 Jan for L6 for L7", "Note", "15 Jan", ("L6", "L7"), ()),
    ("Note by 15 Jan for S2, L4", "Note", "15 Jan", ("S2", "L4"), ()),
    ("Circulate the note for S2 and L4 by 15 Jan", "Circulate the note", "15 Jan", ("S2", "L4"), ()),
    ("Brief the chair by the session for recommendation l6", "Brief the chair", "the session",
     ("L6",), ()),
    ("Prepare the paper by Friday for @anna", "Prepare the paper", "Friday", (), (ANNA,)),
    ("Prepare the paper by Friday owner @anna @marco", "Prepare the paper", "Friday", (),
     (ANNA, PersonRef(name="marco"))),
    ("Prepare the paper owner @anna and me by Friday for S1", "Prepare the paper", "Friday",
     ("S1",), (ANNA, ME)),
    ("Guidelines for border police by Friday", "Guidelines for border police", "Friday", (), ()),
    ("Meeting organised by Italy by next Friday", "Meeting organised by Italy", "next Friday", (), ()),
    ("Report on R&D, 1,000 pages by Friday", "Report on R&D, 1,000 pages", "Friday", (), ()),
    ("Paper by Friday assigned to <@U0ANNA|anna smith>", "Paper", "Friday", (),
     (PersonRef(user_id="U0ANNA"),)),
])
def test_clauses_in_any_order(text: str, what: str, due: str, recs: tuple[str, ...],
                              owners: tuple[PersonRef, ...]) -> None:
    assert commit_clauses(text) == CommitClauses(what=what, due=due, rec_ids=recs, owners=owners)


@pytest.mark.parametrize("text,clause", [
    ("Note by 15 Jan for Mediterranean", "for Mediterranean"),
    ("Note by 15 Jan for L6 and the others", "for L6 and the others"),
    ("Note by Friday owner anna", "owner anna"),
    ("Note by Friday owner @anna please", "owner @anna please"),
])
def test_a_problem_quotes_only_the_clause_that_failed(text: str, clause: str) -> None:
    problem = commit_clauses(text)
    assert isinstance(problem, ClauseProblem)
    assert problem.clause == clause
    assert "15 Jan" not in problem.clause and "Friday" not in problem.clause


@pytest.mark.parametrize("text,message", [
    ("Draft guidelines", "I need a deadline"),
    ("by Friday", "Tell me what you commit to"),
    ("Draft by", "I need a date after `by`"),
])
def test_missing_parts_are_named(text: str, message: str) -> None:
    problem = commit_clauses(text)
    assert isinstance(problem, ClauseProblem) and message in problem.message


@pytest.mark.parametrize("token,ref", [
    ("<@U0ANNA>", PersonRef(user_id="U0ANNA")),
    ("<@U0ANNA|anna>", PersonRef(user_id="U0ANNA")),
    ("@U0CONSOLE", PersonRef(user_id="U0CONSOLE")),
    ("U0CONSOLE", PersonRef(user_id="U0CONSOLE")),
    ("@anna", ANNA),
    ("me", ME),
    ("anna", None),
    ("Friday", None),
])
def test_a_person_as_written(token: str, ref: PersonRef | None) -> None:
    assert person(token) == ref


def test_people_lists() -> None:
    assert people("@anna, @marco and me") == (ANNA, PersonRef(name="marco"), ME)
    assert people("@anna and the team") is None


@given(st.text(max_size=300))
def test_never_raises_and_keeps_clauses_out_of_the_text(text: str) -> None:
    result = commit_clauses(text)
    assert isinstance(result, CommitClauses | ClauseProblem)
    if isinstance(result, CommitClauses):
        assert result.what and result.due
        assert " by " not in f" {result.due} ".lower() or "owned by" in text.lower()
