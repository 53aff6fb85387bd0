"""The conversation shared by Slack and the console: every input gets a reply, time is a FixedClock."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from bot.app import Core, build_core
from bot.clock import FixedClock
from bot.config.live import LiveConfig
from bot.console.adapters import ConsoleDirectory, ConsoleNotifier
from bot.conversation import Caller
from bot.domain.reply import Reply
from bot.settings import Settings
from bot.store.db import unit_of_work
from bot.store.models import AuditEntry, Commitment
from tests.conftest import ADMIN, MEMBER, OTHER

THURSDAY = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def core(config_dir: Path, tmp_path: Path, database_url: str, engine: Engine) -> Core:
    """The core on SQLite, and on PostgreSQL when WGBOT_TEST_DATABASE_URL is set."""
    settings = Settings.from_env({"DATABASE_URL": database_url,
                                  "WGBOT_CONFIG_DIR": str(config_dir)})
    clock = FixedClock(THURSDAY)
    return build_core(settings, clock=clock,
                      notifier=ConsoleNotifier(io.StringIO(), files_dir=tmp_path / "files"),
                      directory=ConsoleDirectory(), config=LiveConfig(config_dir, clock),
                      engine=engine)


def say(core: Core, text: str, user: str = MEMBER) -> str:
    reply = core.conversation.answer(Caller(user), text).reply
    return reply.text + "\n" + "\n".join(getattr(p, "text", "") for p in reply.parts)


def test_relative_dates_use_the_clock(core: Core) -> None:
    out = say(core, "commit Circulate the draft by next Friday for S1")
    assert "Fri 4 Dec 2026, 17:00 Europe/Vienna" in out  # Thursday 26 Nov → next week's Friday
    out = say(core, "commit Brief the chair by the session")
    assert "Thu 4 Mar 2027, 10:00 Europe/Vienna" in out


def test_overdue_after_the_clock_moves(core: Core) -> None:
    say(core, "commit Late item by tomorrow")
    assert "Nothing is overdue" in say(core, "list overdue")
    core.clock.advance(timedelta(days=3))  # type: ignore[attr-defined]
    out = say(core, "list overdue")
    assert "Late item" in out and "overdue" in out


def test_session_readiness(core: Core) -> None:
    say(core, "commit Border training by 15 Dec for S3")
    say(core, "commit Done thing by 16 Dec for S3")
    say(core, "done 2")
    out = say(core, "session")
    assert "Responsible border management: 1 done, 1 open" in out
    assert "Border training" in out


def test_session_lists_what_the_caller_holds_with_others_and_nothing_of_anyone_else(
        core: Core) -> None:
    say(core, "commit Shared briefing by 15 Dec for S3")
    assert f"held by <@{OTHER}> and <@{MEMBER}>" in say(core, f"assign 1 <@{OTHER}> <@{MEMBER}>")
    say(core, "commit Someone else's paper by 16 Dec for S1", user=OTHER)
    say(core, "commit After the session by 1 June 2027")
    out = say(core, "session").split("Yours, due before the session")[1]
    assert "Shared briefing" in out
    assert "Someone else's paper" not in out and "After the session" not in out


def test_admin_commands_need_an_admin(core: Core) -> None:
    assert "Only admins can use `/wg admin status`" in say(core, "admin status", user=MEMBER)
    assert "Deliveries" in say(core, "admin status", user=ADMIN)
    assert "Reloaded" in say(core, "admin reload", user=ADMIN)


def test_cancelled_ids_answered_clearly(core: Core) -> None:
    say(core, "commit Something by 15 Dec")
    say(core, "cancel 1")
    assert "was cancelled" in say(core, "move 1 to 20 Dec")
    assert "Only its owners" in say(core, "reopen 1", user=OTHER)


def _counts(core: Core) -> tuple[int, int]:
    with unit_of_work(core.sessions, read_only=True) as s:
        return (s.scalar(select(func.count()).select_from(Commitment)) or 0,
                s.scalar(select(func.count()).select_from(AuditEntry)) or 0)


WORDS = st.sampled_from(["commit", "by", "for", "owner", "<@U0X|x>", "L6", "S9", "move", "to",
                         "1", "#2", "list", "recs", "search", "done", "cancel", "reopen", "show",
                         "export", "csv", "ics", "admin", "session", "page", "0", "99999999999",
                         "tomorrow", "30 February", "next", "Friday", "in", "3", "weeks",
                         "<!channel>", "&", "\u202e", "🙂", "x" * 600, "2026-13-45", "help",
                         "edit", "assign", "link", "unlink", "note", "find", "@anna", "me",
                         "S2", "and"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=200), st.lists(WORDS, max_size=10).map(" ".join)))
def test_every_input_gets_a_reply_and_nothing_half_written(core: Core, text: str) -> None:
    before = _counts(core)
    outcome = core.conversation.answer(Caller(MEMBER), text)
    assert isinstance(outcome.reply, Reply) and outcome.reply.text
    assert "Traceback" not in outcome.reply.text
    assert "Sorry — something went wrong" not in outcome.reply.text, text
    after = _counts(core)
    created = after[0] - before[0]
    # a commitment row only ever appears together with its audit entry
    assert created in (0, 1)
    if created:
        assert re.search(r"Recorded #\d+", outcome.reply.text)
        assert after[1] - before[1] == 1


def test_completing_skips_its_pending_reminder_at_once(core: Core) -> None:
    from bot.domain import planning
    from bot.domain.planning import Planned
    from bot.services import outbox
    from bot.store.models import Delivery

    say(core, "commit Deferred by 15 Dec")
    with unit_of_work(core.sessions) as s:
        c = s.get(Commitment, 1)
        assert c is not None
        subject = planning.commitment_subject(c.id, c.due_at)
        moment = c.due_at - timedelta(days=1)
        outbox.enqueue(s, [Planned("deadline", MEMBER, subject, moment, moment)], now=THURSDAY)
    say(core, "done 1")
    with unit_of_work(core.sessions, read_only=True) as s:
        d = s.scalars(select(Delivery)).one()
        assert (d.status, d.reason) == ("skipped", "commitment #1 is done")


def test_recs_aspects_quote_the_report_and_name_the_recommendations(core: Core) -> None:
    out = say(core, "recs aspects")
    assert "preventing human trafficking and migrant smuggling" in out
    assert "S6* Expand co-operation with Europol and the EMSC" in out
    assert "No recommendation mentions" not in out


def test_recs_drivers_lists_the_structural_drivers_and_where_they_are_named(core: Core) -> None:
    out = say(core, "recs drivers")
    for driver in ("conflict", "uneven development", "climate change", "scarce natural resources",
                   "demographic pressures"):
        assert f"• {driver}" in out
    assert "Named in *L1*" in out


@pytest.mark.parametrize("topic,example", [
    ("move", "`/wg move 12 to next Friday`"),
    ("reschedule", "`/wg move 12 to next Friday`"),
    ("recs", "`/wg recs aspects`"),
    ("dates", "`by the session`"),
])
def test_help_for_one_command_gives_its_page(core: Core, topic: str, example: str) -> None:
    out = say(core, f"help {topic}")
    assert example in out
    assert out.count("`/wg") >= 3 or topic == "dates"
    assert "Your commitments" not in out


def test_help_for_an_unknown_topic_gives_the_overview(core: Core) -> None:
    assert "Your commitments" in say(core, "help nonsense")


# --- commitments that change: edit, assign, several owners, links, notes, find --------------------

def outcome_of(core: Core, text: str, user: str = MEMBER):  # type: ignore[no-untyped-def]
    return core.conversation.answer(Caller(user), text)


def test_edit_changes_the_text_keeps_the_history_and_refuses_others(core: Core) -> None:
    say(core, "commit Draft guidelines by 15 Dec for L6")
    before = _counts(core)
    refused = say(core, "edit 1 Something else", user=OTHER)
    assert "Only its owners, its creator, coordinators or admins can edit #1" in refused
    assert _counts(core) == before
    assert "now reads: “Draft guidelines with the Chair's comments”" in say(
        core, "edit 1 Draft guidelines with the Chair's comments")
    shown = say(core, "show 1")
    assert "changed the text from “Draft guidelines”" in shown
    assert _counts(core) == (before[0], before[1] + 1)


def test_assign_tells_the_new_and_the_previous_owner_once_each(core: Core) -> None:
    say(core, "commit Map the routes by 15 Dec")
    out = outcome_of(core, f"assign 1 <@{OTHER}>", user=ADMIN)
    assert f"held by <@{OTHER}>" in out.reply.text
    # the previous owner is told at once; the new one by the batched owner notice (outbox)
    assert [(m.user_id, m.reply.text) for m in out.messages] == [(MEMBER, "#1 has a new owner")]
    assert notices(core) == [OTHER]
    assert "Map the routes" in say(core, "list", user=OTHER)
    assert "no open commitments" in say(core, "list", user=MEMBER)
    again = outcome_of(core, f"assign 1 <@{OTHER}>", user=ADMIN)
    assert again.messages == () and notices(core) == [OTHER]


def notices(core: Core) -> list[str]:
    from bot.store.models import Delivery

    with unit_of_work(core.sessions, read_only=True) as s:
        return sorted(s.scalars(select(Delivery.recipient).where(Delivery.kind == "owner_notice")))


def test_several_owners_each_see_it_and_any_of_them_may_update_it(core: Core) -> None:
    outcome_of(core, f"commit Joint paper by 15 Dec owner me and <@{OTHER}>")
    assert notices(core) == [OTHER]
    assert "Joint paper" in say(core, "list", user=OTHER)
    assert "Joint paper" in say(core, "list", user=MEMBER)
    assert f"<@{MEMBER}> and <@{OTHER}>" in say(core, "list all")
    assert "Marked *#1* done" in say(core, "done 1", user=OTHER)


def test_links_count_under_each_recommendation(core: Core) -> None:
    assert "Recorded #1" in say(core, "commit Border training by 15 Dec for S3 and L6")
    assert "Commitments: 1 open" in say(core, "recs S3")
    assert "Commitments: 1 open" in say(core, "recs L6")
    assert "Linked *#1*" in say(core, "unlink 1 L6")
    assert "Commitments: 1 open" not in say(core, "recs L6")
    assert "Border training" in say(core, "list S3")
    assert "linked it to S3 (was S3, L6)" in say(core, "show 1")
    assert "no recommendation *S9*" in say(core, "link 1 S9")


def test_a_link_or_unlink_that_changes_nothing_says_so(core: Core) -> None:
    assert "Recorded #1" in say(core, "commit Border training by 15 Dec for S3")
    out = say(core, "unlink 1 L6")
    assert "*#1* isn't linked to L6" in out and "Nothing changed" in out and "Linked" not in out
    assert "S3 · Build capacity" in out  # what it does serve
    out = say(core, "link 1 S3")
    assert "*#1* is already linked to S3" in out and "Nothing changed" in out
    assert "linked it" not in say(core, "show 1")  # no history entry for either
    assert "Linked *#1*" in say(core, "link 1 S3 L6")  # one new is a change


def test_a_move_edit_or_assign_that_changes_nothing_says_so_and_writes_nothing(
        core: Core) -> None:
    """Moving to the deadline it has (as the Move button's picker offers it), repeating the text
    or the owners: the answer says nothing changed, and no history entry is written, so the
    digests' "moved more than once" and the brief's slippage count real moves only."""
    assert "Recorded #1" in say(core, "commit Border training by 15 Dec 17:00")
    out = say(core, "move 1 to 15 Dec")  # a date alone is 17:00: the same moment
    assert "*#1* is already due Tue 15 Dec 2026, 17:00" in out and "Nothing changed" in out
    assert "Moved" not in out
    out = say(core, "edit 1 Border training")
    assert "*#1* already reads “Border training”" in out and "Nothing changed" in out
    out = say(core, f"assign 1 <@{MEMBER}>")
    assert "is already held by" in out and "Nothing changed" in out and "Handed" not in out
    history = say(core, "show 1")
    assert "moved" not in history and "edited" not in history and "reassigned" not in history
    assert "Moved *#1*" in say(core, "move 1 to 16 Dec")  # a real move still is one


def test_notes_are_dated_in_the_history_and_found(core: Core) -> None:
    say(core, "commit Prepare the brief by 15 Dec")
    say(core, "commit Unrelated paper by 16 Dec")
    assert "Noted on *#1*" in say(core, "note 1 Draft sent to the Chair for comments")
    shown = say(core, "show 1")
    assert "noted: “Draft sent to the Chair for comments”" in shown
    found = say(core, "find chair comments")
    assert "Prepare the brief" in found and "Unrelated paper" not in found
    assert "No commitment or note has those words" in say(core, "find zebra")


def test_find_ranks_commitments_with_more_of_the_words_first(core: Core) -> None:
    say(core, "commit Border police training by 15 Dec")
    say(core, "commit Police liaison by 16 Dec")
    out = say(core, "find border police")
    assert out.index("Border police training") < out.index("Police liaison")


def test_people_typed_by_name_are_resolved_or_asked_about(core: Core) -> None:
    from bot.services import members
    from bot.ports import Profile

    with unit_of_work(core.sessions) as s:
        members.remember(s, user_id="U0ANNA1", profile=Profile("Anna Rossi", None), now=THURSDAY)
        members.remember(s, user_id="U0MARCO", profile=Profile("Marco", None), now=THURSDAY)
    assert "<@U0MARCO> is committed" in say(core, "commit Brief the Chair by 15 Dec owner @marco")
    assert "Brief the Chair" in say(core, "list @Marco")
    with unit_of_work(core.sessions) as s:
        members.remember(s, user_id="U0ANNA2", profile=Profile("Anna", None), now=THURSDAY)
    before = _counts(core)
    asked = say(core, "commit Paper by 15 Dec owner @anna")
    assert "Several people are called *@anna*" in asked and "<@U0ANNA1>" in asked
    assert "I don't know anyone called *@zoe*" in say(core, "assign 1 @zoe")
    assert _counts(core) == before


def test_a_clause_that_fails_records_nothing_and_names_the_clause(core: Core) -> None:
    before = _counts(core)
    out = say(core, "commit Note by 15 Jan for Mediterranean")
    assert "I couldn't read `for Mediterranean`" in out and "15 Jan" not in out.split("\n")[0]
    assert _counts(core) == before
    assert "Recorded #1" in say(core, "commit Help Anna by Friday owner @U0CONSOLE")


def test_each_owner_gets_a_deadline_reminder(core: Core) -> None:
    from bot.services import outbox
    from bot.store.models import Delivery

    say(core, f"commit Joint paper by 4 Dec owner me and <@{OTHER}>")
    with unit_of_work(core.sessions) as s:
        outbox.plan(s, config=core.conversation.config, now=THURSDAY)
        outbox.plan(s, config=core.conversation.config,
                    now=datetime(2026, 12, 4, 17, tzinfo=UTC))
    with unit_of_work(core.sessions, read_only=True) as s:
        rows = s.scalars(select(Delivery).where(Delivery.kind == "deadline")).all()
        assert {d.recipient for d in rows} == {MEMBER, OTHER}


def test_snooze_from_a_reminder_moves_the_deadline_and_redraws_the_dm(core: Core) -> None:
    say(core, "commit Send the paper by today 18:00")  # the clock is Thursday 10:00
    out = core.conversation.act(Caller(MEMBER), "wg_snooze_tomorrow", "1|msg")
    assert out.reply.replace_original
    assert "Moved *#1*" in out.reply.text and "Fri 27 Nov 2026, 17:00" in out.reply.text
    again = core.conversation.act(Caller(MEMBER), "wg_snooze_tomorrow", "1|msg").reply
    assert "is already due Fri 27 Nov 2026, 17:00" in again.text and not again.replace_original
    out = core.conversation.act(Caller(MEMBER), "wg_snooze_week", "1|msg")
    assert "Thu 3 Dec 2026" in out.reply.text
    assert "out of date" in core.conversation.act(Caller(MEMBER), "wg_snooze_forever",
                                                  "1|msg").reply.text
    assert "Only its owners" in core.conversation.act(Caller(OTHER), "wg_snooze_week",
                                                      "1|msg").reply.text


def test_the_same_text_for_the_same_owner_asks_first(core: Core) -> None:
    say(core, "commit Draft the  guidelines by 15 Dec")
    before = _counts(core)
    out = outcome_of(core, "commit draft the guidelines by 20 Dec")
    assert "is already open" in say(core, "commit draft the guidelines by 20 Dec")
    assert _counts(core) == before
    anyway = [b for p in out.reply.parts for b in getattr(p, "buttons", ())
              if b.action_id == "wg_record_anyway"]
    assert anyway and "Recorded #2" in core.conversation.act(
        Caller(MEMBER), "wg_record_anyway", anyway[0].value).reply.text
    assert "Recorded #3" in say(core, "commit Draft the guidelines by 20 Dec", user=OTHER)


def test_a_deadline_after_the_session_is_accepted_with_a_one_click_fix(core: Core) -> None:
    out = outcome_of(core, "commit Follow-up report by 30 April 2027")
    assert "Recorded #1" in out.reply.text and "Fri 30 Apr 2027" in out.reply.text
    warning = [p for p in out.reply.parts if getattr(p, "button", None)
               and p.button.action_id == "wg_session_date"]
    assert warning and "after the special session" in warning[0].text
    moved = core.conversation.act(Caller(MEMBER), "wg_session_date", warning[0].button.value)
    assert "Thu 4 Mar 2027, 10:00" in moved.reply.text
    assert "after the special session" not in say(core, "commit Earlier one by 15 Dec")


def test_a_clearly_related_recommendation_is_suggested_with_a_link_button(core: Core) -> None:
    out = outcome_of(core, "commit Brief the Mediterranean Partners on migration by 15 Dec")
    suggestion = [p for p in out.reply.parts if getattr(p, "button", None)
                  and p.button.action_id == "wg_link"]
    assert suggestion and "Looks related to *S2*" in suggestion[0].text
    linked = core.conversation.act(Caller(MEMBER), "wg_link", suggestion[0].button.value)
    assert "Linked *#1*" in linked.reply.text and "S2 · " in linked.reply.text
    unclear = outcome_of(core, "commit Draft a paper by 15 Dec")
    assert not [p for p in unclear.reply.parts if getattr(p, "button", None)]
    given_rec = outcome_of(core, "commit Brief the Mediterranean Partners again by 16 Dec for S2")
    assert "Looks related" not in " ".join(getattr(p, "text", "") for p in given_rec.reply.parts)
