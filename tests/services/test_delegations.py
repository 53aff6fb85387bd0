"""Delegations: members set their own unless config fixes it; shown on commitments, listings,
exports and digests; a config edit takes over at once."""
from __future__ import annotations

import json

import csv
import io
from pathlib import Path

from bot.app import Core
from bot.conversation import Caller
from bot.store.db import unit_of_work
from bot.store.models import Member
from tests.conftest import ADMIN, COORDINATOR, MEMBER, OTHER, edit_settings
from tests.services.test_digests import Spec, core, plant, say

__all__ = ["core"]


def test_a_member_sets_their_delegation_and_it_shows_everywhere(core: Core) -> None:
    assert "You have not set a delegation" in say(core, "delegation", user=MEMBER)
    assert "You act for Austria" in say(core, "delegation   Austria ", user=MEMBER)
    assert "You act for Austria." in say(core, "delegation", user=MEMBER)
    assert "Delegation: Austria" in say(core, "commit Draft a non-paper by 10 Dec for L6",
                                        user=MEMBER)
    say(core, "commit Review it by 11 Dec", user=OTHER)
    listing = say(core, "list all", user=OTHER)
    assert "@U0MEMBER1 (Austria)" in listing and "@U0MEMBER2 (" not in listing
    assert "  Owner: @U0MEMBER1\n  Austria\n" in say(core, "show 1", user=OTHER)
    out = core.conversation.answer(Caller(MEMBER), "export csv")
    rows = list(csv.DictReader(io.StringIO(out.uploads[0][1].content.decode("utf-8-sig"))))
    assert [(r["id"], r["delegation"]) for r in rows] == [("1", "Austria"), ("2", "")]
    digest = say(core, "digest", user=COORDINATOR)
    assert "Austria: 0 done, 1 open" in digest and "No delegation set: 0 done, 1 open" in digest
    assert "Your delegation is cleared" in say(core, "delegation none", user=MEMBER)
    with unit_of_work(core.sessions, read_only=True) as s:
        assert s.get(Member, MEMBER).delegation is None  # type: ignore[union-attr]


def test_config_fixes_a_delegation(core: Core, config_dir: Path) -> None:
    refused = say(core, "delegation Malta", user=ADMIN)
    assert "The admins set your delegation to OSCE Secretariat" in refused
    assert "Nothing was changed" in refused
    assert "You act for OSCE Secretariat (set by the admins)." in say(core, "delegation", user=ADMIN)
    say(core, "delegation Austria", user=MEMBER)
    say(core, "commit Draft a non-paper by 10 Dec", user=MEMBER)
    edit_settings(config_dir, {"delegations": [{"name": "Malta", "members": [MEMBER]}]})
    assert "Reloaded: delegation Malta added; delegation OSCE Secretariat removed" in \
        say(core, "admin reload", user=ADMIN).replace("\n", " ")
    assert "@U0MEMBER1 (Malta)" in say(core, "list all", user=OTHER)
    assert "set your delegation to Malta" in say(core, "delegation Austria", user=MEMBER)
    # the digest counts them under the delegation config fixes, overdue ones too
    plant(core, [Spec(0, "L6", "open", -3, ())])  # owner 0 is MEMBER
    digest = say(core, "digest", user=COORDINATOR)
    assert "Malta: 0 done, 2 open, ⚠️ 1 overdue" in digest and "Austria:" not in digest


def test_bad_names_change_nothing(core: Core) -> None:
    say(core, "delegation Austria", user=MEMBER)
    out = say(core, "delegation " + "x" * 121, user=MEMBER)
    assert "the limit is 120" in out and "Nothing was changed" in out
    assert "You act for Austria." in say(core, "delegation", user=MEMBER)
    assert "You act for <!channel> &amp;" not in say(core, "delegation <!channel> &", user=MEMBER)
    reply = core.conversation.answer(Caller(MEMBER), "delegation").reply
    from bot.slack import render  # Slack gets the name escaped: it shows as typed, pings nobody

    sent = json.dumps(render.message(reply))
    assert "&lt;!channel&gt;" in sent and "<!channel>" not in sent
