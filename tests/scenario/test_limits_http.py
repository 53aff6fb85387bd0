"""Limits of the real `wgbot serve` over signed HTTP: a database locked by another process, and
replayed requests. Kept few: each starts the server; the rest is tested in process (tests/services)."""
from __future__ import annotations

import json
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import MEMBER
from tests.slack_fake.client import reply_body as _reply
from tests.slack_fake.client import reply_text as _text
from tests.slack_fake.process import BotProcess


def _commitments(bot: BotProcess) -> int:
    with sqlite3.connect(bot.tmp_dir / "wgbot.db") as conn:
        return int(conn.execute("SELECT count(*) FROM commitments").fetchone()[0])


def test_a_locked_database_gets_the_busy_answer_in_time_and_nothing_is_written(
        bot: BotProcess) -> None:
    """Another process holds the write lock for 6 s; commands answer 'busy' while it is held."""
    c = bot.client
    assert "Your open commitments" in _text(_reply(c.command("list", user_id=MEMBER)))
    taken, released = threading.Event(), threading.Event()
    seen_inside: list[int] = []

    def hold() -> None:  # this test process is the other writer
        holder = sqlite3.connect(bot.tmp_dir / "wgbot.db", isolation_level=None, timeout=30)
        holder.execute("BEGIN IMMEDIATE")
        taken.set()
        released.wait(6)  # longer than a request may wait, shorter than the old 15 s timeout
        seen_inside.append(holder.execute("SELECT count(*) FROM commitments").fetchone()[0])
        holder.execute("ROLLBACK")
        holder.close()
        released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    triggers = [c.new_trigger_id() for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(
            lambda t: c.command("commit Draft guidelines by 2030-06-28", user_id=MEMBER,
                                trigger_id=t), triggers))
        answered_while_held = not released.is_set()
    holder.join(15)
    assert answered_while_held  # every answer came before the lock was let go
    for resp in answers:
        text = _text(_reply(resp))
        assert "database is busy" in text and "Nothing was recorded" in text, text
    assert seen_inside == [0] and _commitments(bot) == 0
    # The very same signed request, once the lock is gone, is carried out (it was not recorded
    # as handled while it failed).
    text = _text(_reply(c.command("commit Draft guidelines by 2030-06-28", user_id=MEMBER,
                                  trigger_id=triggers[0])))
    assert "Recorded *#1*" in text, text
    assert _commitments(bot) == 1


def test_a_replayed_signed_command_is_handled_once(bot: BotProcess) -> None:
    """The same signed body, re-posted within Slack's 5-minute window, creates one commitment."""
    c = bot.client
    first = _text(_reply(c.command("commit Brief the chair by 2030-02-01", user_id=MEMBER)))
    assert "Recorded *#1*" in first
    body = c.last_body
    replies = [_text(_reply(c.post(body, content_type="application/x-www-form-urlencoded")))
               for _ in range(2)]
    assert all("already handled" in r for r in replies), replies
    assert _commitments(bot) == 1
    listing = _reply(c.command("list", user_id=MEMBER))
    done = next(e for b in listing["blocks"] if b["type"] == "actions" for e in b["elements"]
            if e["action_id"] == "wg_done")
    c.block_action("wg_done", value=done["value"], blocks=listing["blocks"], user_id=MEMBER)
    click = c.last_body
    bot.fake.wait_for("response_url", predicate=lambda x: "done" in json.dumps(x.params))  # type: ignore[union-attr]
    _text(_reply(c.command("reopen 1", user_id=MEMBER)))
    assert c.post(click, content_type="application/x-www-form-urlencoded").status_code == 200
    bot.fake.wait_for("response_url",  # type: ignore[union-attr]
                      predicate=lambda x: "already handled" in json.dumps(x.params))
    with sqlite3.connect(bot.tmp_dir / "wgbot.db") as conn:
        assert conn.execute("SELECT status FROM commitments").fetchall() == [("open",)]
