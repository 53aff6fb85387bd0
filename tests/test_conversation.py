"""The conversation shared by Slack and the console: every input gets a reply, time is a FixedClock."""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

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

UTC = timezone.utc
THURSDAY = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def core(config_dir: Path, tmp_path: Path, database_url: str) -> Iterator[Core]:
    """The core on SQLite, and on PostgreSQL when WGBOT_TEST_DATABASE_URL is set."""
    settings = Settings.from_env({"DATABASE_URL": database_url,
                                  "WGBOT_CONFIG_DIR": str(config_dir)})
    clock = FixedClock(THURSDAY)
    c = build_core(settings, clock=clock, notifier=ConsoleNotifier(io.StringIO(),
                                                                   files_dir=tmp_path / "files"),
                   directory=ConsoleDirectory(), config=LiveConfig(config_dir, clock),
                   upgrade=True)
    yield c
    c.close()


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
                         "<!channel>", "&", "\u202e", "🙂", "x" * 600, "2026-13-45", "help"])


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
