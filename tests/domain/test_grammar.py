"""The /wg grammar: every form parses to the right command; nothing raises."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import grammar as g
from bot.domain.clauses import PersonRef


@pytest.mark.parametrize("text,expected", [
    ("", g.Help()),
    ("help", g.Help()),
    ("recs", g.Recs("overview")),
    ("recs short", g.Recs("short")),
    ("RECS LONG", g.Recs("long")),
    ("recs areas", g.Recs("areas")),
    ("recs aspects", g.Recs("aspects")),
    ("recs drivers", g.Recs("drivers")),
    ("recs root causes", g.Recs("drivers")),
    ("recs aspects of integration", g.Recs("search", "aspects of integration")),
    ("recs S3", g.Recs("id", "S3")),
    ("recs l7", g.Recs("id", "L7")),
    ("l7", g.Recs("id", "L7")),
    ("recs search border management", g.Recs("search", "border management")),
    ("recs youth unemployment", g.Recs("search", "youth unemployment")),
    ("list", g.ListCommitments("mine")),
    ("list all", g.ListCommitments("all")),
    ("list overdue page 2", g.ListCommitments("overdue", page=2)),
    ("list <@U0ABC|anna>", g.ListCommitments("user", "U0ABC", person=PersonRef("U0ABC"))),
    ("list <@U0ABC>", g.ListCommitments("user", "U0ABC", person=PersonRef("U0ABC"))),
    ("list @U0CONSOLE", g.ListCommitments("user", "U0CONSOLE", person=PersonRef("U0CONSOLE"))),
    ("list @anna", g.ListCommitments("user", "", person=PersonRef(name="anna"))),
    ("edit 12 New words", g.Edit(12, "New words")),
    ("rename #12 New words", g.Edit(12, "New words")),
    ("assign 12 @anna", g.Assign(12, (PersonRef(name="anna"),))),
    ("assign 12 to <@U0A> and me", g.Assign(12, (PersonRef("U0A"), PersonRef(me=True)))),
    ("link 12 S2 L4", g.Link(12, ("S2", "L4"))),
    ("link 12 to s2, l4", g.Link(12, ("S2", "L4"))),
    ("unlink 12 L4", g.Link(12, ("L4",), remove=True)),
    ("note 12 Draft sent to the Chair", g.AddNote(12, "Draft sent to the Chair")),
    ("find border police", g.Find("border police")),
    ("find border police page 3", g.Find("border police", 3)),
    ("list l6", g.ListCommitments("rec", "L6")),
    ("show 12", g.Change("show", 12)),
    ("done #12", g.Change("done", 12)),
    ("reopen 3", g.Change("reopen", 3)),
    ("cancel 4", g.Change("cancel", 4)),
    ("move 5 to next Friday", g.Change("move", 5, "next Friday")),
    ("move 5 15 Dec", g.Change("move", 5, "15 Dec")),
    ("export csv", g.Export("csv")),
    ("export ICS", g.Export("ics")),
    ("session", g.SessionInfo()),
    ("admin status", g.Admin("status")),
    ("admin digest now", g.Admin("digest")),
])
def test_forms(text: str, expected: g.Command) -> None:
    assert g.parse(text) == expected


@pytest.mark.parametrize("text,what,due,rec,owner", [
    ("commit Draft guidelines by 30 June for L6", "Draft guidelines", "30 June", "L6", None),
    ("commit Draft guidelines for l6 by Friday", "Draft guidelines", "Friday", "L6", None),
    ("commit Brief the PC by next Friday owner <@U0XYZ|bob>", "Brief the PC", "next Friday", None,
     "U0XYZ"),
    ("commit Stand by the route map by tomorrow", "Stand by the route map", "tomorrow", None, None),
    ("commit Map smuggling routes by 2026-12-04 17:00 for S6 owner <@U0Q>",
     "Map smuggling routes", "2026-12-04 17:00", "S6", "U0Q"),
    ("commit Paper for the session by the session", "Paper for the session", "the session", None,
     None),
    ("commit Help Anna by Friday owner @U0CONSOLE", "Help Anna", "Friday", None, "U0CONSOLE"),
])
def test_commit(text: str, what: str, due: str, rec: str | None, owner: str | None) -> None:
    assert g.parse(text) == g.Commit(what=what, due=due, rec_ids=(rec,) if rec else (),
                                     owners=(PersonRef(owner),) if owner else ())


@pytest.mark.parametrize("text,quoted", [
    ("commit Note by 15 Jan for Mediterranean", "`for Mediterranean`"),
    ("commit Note by Friday owner anna", "`owner anna`"),
])
def test_a_clause_that_fails_is_quoted_alone(text: str, quoted: str) -> None:
    cmd = g.parse(text)
    assert isinstance(cmd, g.Invalid)
    assert quoted in cmd.message and "15 Jan" not in cmd.message.replace(quoted, "")


@pytest.mark.parametrize("text,fragment", [
    ("commit something", "deadline"),
    ("commit", "what you commit"),
    ("commit by Friday", "before `by`"),
    ("done", "commitment number"),
    ("done twelve", "`twelve` is not one"),
    ("move 3", "to when"),
    ("list nonsense", "not `nonsense`"),
    ("export pdf", "csv"),
    ("recs search", "what to look for"),
    ("lsit", "Did you mean `/wg list`"),
    ("frobnicate", "/wg help"),
    ("admin explode", "status"),
    ("x" * 3000, "at most"),
])
def test_invalid_input_explains(text: str, fragment: str) -> None:
    cmd = g.parse(text)
    assert isinstance(cmd, g.Invalid)
    assert fragment in cmd.message


def test_mentions_in_both_forms() -> None:
    assert g.mention_id("<@U123>") == "U123"
    assert g.mention_id("<@U123|anna>") == "U123"
    assert g.mention_id("@anna") is None


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_parse_never_raises(text: str) -> None:
    assert isinstance(g.parse(text), (g.Help, g.Recs, g.Commit, g.ListCommitments, g.Change,
                                      g.Edit, g.Assign, g.Link, g.AddNote, g.Find,
                                      g.Export, g.SessionInfo, g.Admin, g.DigestNow, g.Brief,
                                      g.SetDelegation, g.Invalid))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["commit", "by", "for", "owner", "<@U1|x>", "L6", "S9", "move",
                                 "to", "12", "#", "list", "recs", "search", "done", "page", "-1",
                                 "\x00", "<!channel>", "&"]), max_size=12))
def test_grammar_words_never_raise(words: list[str]) -> None:
    g.parse(" ".join(words))
