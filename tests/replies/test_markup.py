"""Every reply the bot builds, rendered for Slack and for the console, with hostile user text in
every field a user (or an admin's config) controls: Slack gets it escaped, the console as typed."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.console.render import render as console
from bot.domain.digest import Change, Digest, GroupCount, Item, Slip, figures
from bot.domain.reply import Mrkdwn, Reply, Section, escape, md, mention
from bot.domain.views import CommitmentView, HistoryEntry
from bot.replies import commitments as c_replies
from bot.replies import notifications, recs, session
from bot.slack import render
from tests import factories
from tests.slack.test_escaping import HOSTILE, assert_echoed, assert_safe
from tests.slack_fake.server import validate_blocks

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TZ = factories.VIENNA


def commitment(status: str = "open", owner: str = "U0OWNER", due: timedelta = timedelta(days=3)
               ) -> CommitmentView:
    return CommitmentView(id=7, text=HOSTILE, owner_ids=(owner,), rec_ids=("L6",),
                          creator_id="U0CREATOR", status=status, due_at=NOW + due,
                          due_words=HOSTILE, created_at=NOW)


def config():  # type: ignore[no-untyped-def]
    base = factories.config()
    return replace(base, session=replace(base.session, title=f"Session {HOSTILE}",
                                         place=f"Hofburg {HOSTILE}"))


def _digest():  # type: ignore[no-untyped-def]
    item = Item(id=7, text=HOSTILE, owner_id="U0OWNER", owner_name=HOSTILE, delegation=HOSTILE,
                rec_id="L6", due_at=NOW + timedelta(days=2))
    late = Item(id=8, text=HOSTILE, owner_id="U0LATE", owner_name=HOSTILE, delegation=None,
                rec_id=None, due_at=NOW - timedelta(days=2))
    slip = Slip(commitment_id=7, text=HOSTILE, owner_id="U0OWNER", delegation=HOSTILE, moves=3,
                days=9)
    change = Change(commitment_id=7, actor_id="U0ACTOR", action="created", at=NOW, text=HOSTILE,
                    detail=HOSTILE)
    f = figures(factories.knowledge(), now=NOW,
                by_rec=[GroupCount("L6", "open", 2, 0), GroupCount(None, "open", 1, 1)],
                by_owner=[GroupCount("U0OWNER", "open", 2, 0), GroupCount("U0LATE", "open", 1, 1)],
                delegation_of={"U0OWNER": HOSTILE, "U0LATE": None}, overdue=[late],
                due_soon=[item], due_soon_count=1, slipped=[slip], slipped_count=1)
    return Digest(figures=f, since=None, changes=(change,), changes_count=1)


def replies() -> dict[str, Reply]:
    kb = factories.knowledge()
    cfg = config()
    c = commitment()
    trail = [HistoryEntry(commitment_id=7, actor_id="U0ACTOR", at=NOW, action="created", changes={})]
    view = c_replies.ListView(scope="all", arg="", page=1, title="All open commitments")
    return {
        "created": c_replies.created(c, kb=kb, tz=TZ, now=NOW, caller_id="U0CREATOR"),
        "assigned_dm": c_replies.assigned_dm(c, kb=kb, tz=TZ, now=NOW, assigner_id="U0CREATOR"),
        "detail": c_replies.detail(c, trail, kb=kb, tz=TZ, now=NOW),
        "listing": c_replies.listing((c,), view=view, total=1, pages=1, kb=kb, tz=TZ, now=NOW,
                                     banner=f"Done: {HOSTILE}"),
        **{f"changed_{a}": c_replies.changed(c, action=a, kb=kb, tz=TZ, now=NOW)
           for a in ("done", "reopen", "cancel", "move")},
        "countdown": notifications.countdown(config=cfg, now=NOW, due_before=[c], nobody=["S1"]),
        "deadline": notifications.deadline(c, config=cfg, tz=TZ, now=NOW, offset=timedelta(days=1)),
        "overdue": notifications.overdue(commitment(due=-timedelta(days=1)), config=cfg, tz=TZ,
                                         now=NOW, nudge=1),
        "digest": notifications.digest(_digest(), config=cfg, tz=TZ),
        "admin_failures": notifications.admin_failures([("deadline", "U0OWNER", HOSTILE),
                                                        ("countdown", "C0WG", HOSTILE)]),
        "config_problems": notifications.config_problems([f"settings.yaml:1:1: {HOSTILE}"]),
        "config_changes": notifications.config_changes([f"session place: {HOSTILE}"]),
        "readiness": session.readiness(config=cfg, figures=_digest().figures, mine=[c], tz=TZ,
                                       now=NOW),
        "home": session.home(config=cfg, items=[c], total=1, tz=TZ, now=NOW),
        "search": recs.search(kb, f"youth {HOSTILE}"),
        "search_nothing": recs.search(kb, HOSTILE),
        "unknown_id": recs.unknown_id(kb, HOSTILE),
    }


@pytest.mark.parametrize("name", sorted(replies()))
def test_slack_gets_user_text_escaped_and_shown_as_typed(name: str) -> None:
    reply = replies()[name]
    message = render.message(reply, share=f"recs search {HOSTILE}")
    assert validate_blocks(message["blocks"], max_blocks=50) == []
    assert_safe(message)
    assert_echoed(message)
    assert_safe(render.home_view(reply))


@pytest.mark.parametrize("name", sorted(replies()))
def test_console_shows_user_text_as_typed(name: str) -> None:
    out = console(replies()[name])
    assert HOSTILE.lower() in " ".join(out.split()).lower(), out  # wrapped, headers in capitals
    assert "&amp;" not in out and "&lt;!" not in out  # never the escaped form


def test_bot_mentions_survive_as_mentions() -> None:
    r = replies()
    assert "<@U0CREATOR> recorded a commitment for you" in json.dumps(
        render.message(r["assigned_dm"]))
    assert "<@U0OWNER>" in json.dumps(render.message(r["countdown"]))
    digest = json.dumps(render.message(r["digest"]))
    assert "<@U0ACTOR>" in digest and "<@U0LATE>" in digest
    failures = json.dumps(render.message(r["admin_failures"]))
    assert "<@U0OWNER>" in failures and "<#C0WG>" in failures
    assert "@U0CREATOR recorded a commitment for you" in console(r["assigned_dm"])


def test_mrkdwn_escapes_everything_it_did_not_make() -> None:
    assert md("*{}* by {}", "<!here> & co", mention("U0ABC")) == "*&lt;!here&gt; &amp; co* by <@U0ABC>"
    assert Mrkdwn("a ") + "<!channel>" == "a &lt;!channel&gt;"
    assert "<b>" + Mrkdwn(" a") == "&lt;b&gt; a"
    assert Mrkdwn(", ").join(["<x>", mention("W0AB")]) == "&lt;x&gt;, <@W0AB>"
    assert isinstance(md("{}", 1) + "x", Mrkdwn)
    assert md("{:>4}", 7) == "   7"
    # a malformed id is never turned into a mention
    assert mention("U1> <!channel> <@U0ADMIN01") == "U1&gt; &lt;!channel&gt; &lt;@U0ADMIN01"
    assert escape("&lt;") == "&amp;lt;"
    # forgetting is safe: an f-string or a slice of Mrkdwn is plain text again, escaped whole
    lost = f"{mention('U0ABC')}"
    assert not isinstance(lost, Mrkdwn)
    assert render.message(Reply((Section(lost),), lost))["text"] == "&lt;@U0ABC&gt;"


def test_cutting_never_leaves_half_an_entity_or_mention() -> None:
    text = "x" * 2997 + "<@U0ABCDEF> " + "y" * 100  # the cut falls inside "&lt;"
    out = render.message(Reply((Section(md("{}", text)),), text))["text"]
    assert out == "x" * 2997 + "…"
    made = md("{}{}", "x" * 2994, mention("U0ABCDEFGH")) + " tail" * 10
    cut = render.message(Reply((Section(made),), made))["text"]
    assert "<@U0" not in cut and cut.endswith("x…")


def test_console_session_prints_what_was_typed(config_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import io

    from bot.clock import SystemClock
    from bot.config.live import LiveConfig
    from bot.app import run_console
    from bot.settings import Settings

    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}",
                                  "WGBOT_CONFIG_DIR": str(config_dir)})
    out = io.StringIO()
    typed = f"/wg commit {HOSTILE} \x1b[2J by 2030-01-10\n/wg show 1\n/wg list {HOSTILE}\n"
    run_console(settings, as_user="U0ANNA", tz=None, config=LiveConfig(config_dir, SystemClock()),
                stdin=io.StringIO(typed), stdout=out)
    printed = out.getvalue()
    replies_only = printed.split("\n", 1)[1]
    assert HOSTILE in " ".join(replies_only.split())
    assert "\x1b" not in printed.replace(typed, "")
    assert "&lt;!channel" not in printed


def test_no_code_interpolates_before_escaping() -> None:
    """`md(f"…{x}")`, `Mrkdwn(f"…")` or `f"{escape(x)}"` would trust (or double-escape) a value,
    and an f-string mention `f"<@{uid}>"` would be escaped into visible text: use mention()."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "bot"
    risky = re.compile(r"""\b(?:md|Mrkdwn)\(\s*f["']|\{escape\(|<[@#!]\{""")
    found = [f"{p.relative_to(root)}:{n}" for p in root.rglob("*.py")
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if risky.search(line) and p.name != "reply.py" and "as typed" not in line]
    assert found == []


def test_long_text_in_the_move_modal_stays_within_slacks_limit() -> None:
    from bot.domain.reply import MoveForm
    from bot.slack.views_build import move_modal
    from tests.slack_fake.server import validate_view

    view = move_modal(MoveForm(7, "<" * 500, NOW), "{}")
    assert validate_view(view) == []
    assert_safe(view)
