"""The latest progress note rides along in deadline reminders and overdue nudges, and notes show in
the coordinators' "what changed" with their date, author and words."""
from __future__ import annotations

import json
from datetime import timedelta

from tests.conftest import COORDINATOR, MEMBER
from tests.slack.test_escaping import reply_of
from tests.slack_fake.inprocess import InProcessBot
from tests.slack_fake.server import FakeSlack


def dms(fake: FakeSlack, marker: str) -> list[str]:
    return [json.dumps(c.params.get("blocks"), ensure_ascii=False)
            for c in fake.calls("chat.postMessage")
            if c.params.get("channel") == MEMBER and marker in str(c.params.get("text"))]


def sweeps(bot: InProcessBot, count: int) -> None:
    for _ in range(count):  # twice a day, as a scheduler that runs would have
        bot.sweep(timedelta(hours=12))


def test_reminder_and_nudge_carry_the_latest_note(inproc: InProcessBot, fake: FakeSlack) -> None:
    reply_of(inproc.client.command("commit Draft the guidelines by 3 Dec", user_id=MEMBER))
    reply_of(inproc.client.command("note 1 Outline agreed with Malta", user_id=MEMBER))
    reply_of(inproc.client.command("note 1 Draft sent to the <Chair> & team", user_id=MEMBER))
    sweeps(inproc, 3)  # to Wed 2 Dec, 23:00 in Vienna: the 1-day reminder went out
    reminders = dms(fake, "Reminder: #1")
    assert reminders, [c.params.get("text") for c in fake.calls("chat.postMessage")]
    assert "Latest note" in reminders[-1]
    assert "Draft sent to the &lt;Chair&gt; &amp; team" in reminders[-1]  # escaped, as typed
    assert "Outline agreed" not in reminders[-1]  # only the latest
    assert f"<@{MEMBER}>" in reminders[-1]
    sweeps(inproc, 2)
    inproc.sweep(timedelta(hours=19))  # Fri 4 Dec, 18:00 in Vienna: a working day after the deadline
    nudges = dms(fake, "#1 is overdue")
    assert nudges and "Draft sent to the &lt;Chair&gt; &amp; team" in nudges[-1]


def test_a_reminder_without_notes_has_no_note_line(inproc: InProcessBot, fake: FakeSlack) -> None:
    reply_of(inproc.client.command("commit Draft the guidelines by 3 Dec", user_id=MEMBER))
    sweeps(inproc, 3)
    reminders = dms(fake, "Reminder: #1")
    assert reminders and "Latest note" not in reminders[-1]


def test_notes_are_among_what_changed_with_date_and_author(inproc: InProcessBot) -> None:
    reply_of(inproc.client.command("commit Draft the guidelines by 3 Dec", user_id=MEMBER))
    reply_of(inproc.client.command("note 1 Draft sent to the Chair", user_id=MEMBER))
    body = reply_of(inproc.client.command("digest", user_id=COORDINATOR))
    text = json.dumps(body["blocks"], ensure_ascii=False)
    assert f"Tue 1 Dec 11:00 — <@{MEMBER}> noted on #1 “Draft the guidelines” — “Draft sent to " \
           "the Chair”" in text
