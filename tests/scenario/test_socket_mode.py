"""Socket Mode end to end: what `wgbot socket` builds, against the fake Web API and Socket Mode server.

Commands, buttons, modals and App Home arrive as envelopes and are answered in the acks; the bot
reconnects after a `disconnect` message or a dropped, closed or silent connection and loses
nothing; an envelope Slack delivers again is not handled twice. No signing secret is set anywhere
here.

The conversation and the transport run in this process (`InProcessSocketBot`): bot.app.SocketBot
is what `wgbot socket` builds and closes (Bolt app, core, Socket Mode handler over a real
WebSocket, scheduler), so only the interpreter's start is left out. The tests whose subject is
the process stay real `wgbot` processes (`SocketBotProcess`), each a short scenario on one
process: that `wgbot socket` and `wgbot run` (which must choose Socket Mode) answer over the
socket with no signing secret, that SIGTERM finishes the envelope at work and exits 0, even when
a thread other than the main one takes it (`wgbot clock` too), and that a refused app token ends
the command with exit code 2 and one line.
"""
from __future__ import annotations

import ctypes
import json
import os
import platform
import re
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FixedClock
from tests.conftest import MEMBER
from tests.slack_fake.client import reply_text as _text
from tests.slack_fake.server import FakeSlack, validate_blocks
from tests.slack_fake.socket_server import (
    APP_TOKEN,
    Ack,
    FakeSocketMode,
    InProcessSocketBot,
    SocketBotProcess,
)

Bot = InProcessSocketBot | SocketBotProcess


@pytest.fixture(autouse=True)
def _no_thread_outlives_the_test() -> Iterator[None]:
    """Every thread a test started (the bot's, the fakes') has ended once its fixtures closed."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while left := [t for t in threading.enumerate() if t not in before and t.is_alive()]:
        assert time.monotonic() < deadline, f"threads left running: {[t.name for t in left]}"
        time.sleep(0.02)


@pytest.fixture
def socket_mode(fake: FakeSlack) -> Iterator[FakeSocketMode]:
    """The fake Socket Mode server behind the fake Web API's apps.connections.open."""
    with FakeSocketMode(fake) as sm:
        yield sm


@pytest.fixture
def bot(request: pytest.FixtureRequest, socket_mode: FakeSocketMode, config_dir: Path,
        tmp_path: Path, clock: FixedClock, _migrated_sqlite: Path) -> Iterator[InProcessSocketBot]:
    """`wgbot socket` in this process on SQLite, connected to the fake; it must close cleanly.

    Parametrize indirectly with {"ping_interval": …, "ping_timeout": …, "linger": …} to change
    the pings and how long a replaced connection is kept.
    """
    pings = getattr(request, "param", {})
    with InProcessSocketBot(socket_mode, config_dir=config_dir, tmp_dir=tmp_path / "proc",
                            clock=clock, template=_migrated_sqlite, **pings) as inproc:
        yield inproc
        assert inproc.stop() == 0


@pytest.fixture
def bot_process(socket_mode: FakeSocketMode, config_dir: Path,
                tmp_path: Path) -> Iterator[SocketBotProcess]:
    """The real `wgbot socket` on SQLite, connected to the fake; it must stop cleanly on SIGTERM."""
    proc = SocketBotProcess(socket_mode, config_dir=config_dir, tmp_dir=tmp_path / "proc")
    proc.start()
    try:
        yield proc
        assert proc.stop(signal.SIGTERM) == 0, proc.log_text()[-4000:]
    finally:
        proc.close()


def _reply(ack: Ack) -> dict[str, Any]:
    body = ack.json()
    assert validate_blocks(body.get("blocks", []), max_blocks=50) == []
    return body


def _commit(bot: Bot, text: str) -> int:
    body = _reply(bot.client.command(f"commit {text}"))
    m = re.search(r"Recorded \*#(\d+)\*", _text(body))
    assert m, _text(body)
    return int(m.group(1))


def _titles(bot: Bot) -> list[str]:
    with sqlite3.connect(bot.tmp_dir / "wgbot.db") as db:
        return [row[0] for row in db.execute("SELECT text FROM commitments ORDER BY id")]


# ---------------------------------------------------------------- the conversation


def _answers_in_the_ack(bot: SocketBotProcess, socket_mode: FakeSocketMode) -> None:
    """A slash command over the socket is answered in its ack, with no signing secret."""
    assert "SLACK_SIGNING_SECRET" not in bot.env
    opened = socket_mode.fake.calls("apps.connections.open")
    assert opened and all(c.token == APP_TOKEN for c in opened)
    cid = _commit(bot, "Draft guidelines by 2030-06-28 for l6")
    listing = _reply(bot.client.command("list"))
    assert listing["response_type"] == "ephemeral"
    assert "Draft guidelines" in _text(listing) and f"#{cid}" in _text(listing)
    assert "L6" in _text(_reply(bot.client.command("recs l6")))


def test_buttons_and_modals(bot: InProcessSocketBot, fake: FakeSlack) -> None:
    done_id = _commit(bot, "Press the button by 2030-01-20")
    move_id = _commit(bot, "Move me by 2030-01-21")
    listing = _reply(bot.client.command("list"))
    ack = bot.client.block_action("wg_done", blocks=listing["blocks"],
                                  value=f"{done_id}|list:mine::1")
    assert ack.payload is None or ack.json() == {}  # a click is acked empty; the reply follows
    updated = fake.wait_for("response_url", predicate=lambda c: c.params.get("replace_original"))
    assert f"Marked *#{done_id}* done" in json.dumps(updated[-1].params["blocks"])

    bot.client.block_action("wg_move", blocks=listing["blocks"], value=f"{move_id}|list:mine::1")
    view = fake.wait_for("views.open")[-1].response["view"]
    assert view["callback_id"] == "wg_move_modal"
    past = bot.client.view_submission(view=view, values={"due_date": {"date": "2001-02-14"}})
    assert past.json()["response_action"] == "errors"
    moved = bot.client.view_submission(view=view, values={"due_date": {"date": "2030-02-14"}})
    assert moved.json() == {}
    assert "Thu 14 Feb 2030" in _text(_reply(bot.client.command(f"show {move_id}")))


def test_app_home_opened_publishes_the_home_tab(bot: InProcessSocketBot, fake: FakeSlack) -> None:
    _commit(bot, "Home item by 2030-01-20")
    ack = bot.client.app_home_opened(MEMBER)
    assert ack.json() == {}
    fake.wait_for("views.publish")
    view = fake.home_view(MEMBER)
    assert view is not None and "Home item" in json.dumps(view["blocks"])


def test_a_start_opens_one_connection(bot: InProcessSocketBot, socket_mode: FakeSocketMode,
                                      fake: FakeSlack) -> None:
    """connect() returns with the first connection open: the watch on it, which starts next,
    finds it open and leaves it (it used to start first, see no socket yet and open a second)."""
    time.sleep(0.3)  # past the watch's first look, which it takes as it starts
    assert len(fake.calls("apps.connections.open")) == 1
    assert socket_mode.connections == 1
    assert "Recorded" in _text(_reply(bot.client.command("commit One connection by 2030-03-01")))


def test_an_error_raised_in_a_callback_leaves_the_connection_open(
        bot: InProcessSocketBot, socket_mode: FakeSocketMode, fake: FakeSlack) -> None:
    """websocket-client reports a callback's exception as an error of the connection; only a
    transport error (a ping unanswered, a reset) makes the bot let the connection go."""
    assert bot.bot is not None
    raised: list[str] = []

    def faulty(_session: Any, message: str) -> None:
        raised.append(message)
        raise RuntimeError("a listener failed")

    bot.bot.handler.client.on_message_listeners.append(faulty)
    assert _commit(bot, "Through a faulty listener by 2030-03-01") == 1
    assert raised  # the listener ran, and raised
    assert _commit(bot, "On the same connection by 2030-03-02") == 2
    assert socket_mode.connections == 1 and len(fake.calls("apps.connections.open")) == 1


# ---------------------------------------------------------------- reconnecting


def test_disconnect_message_reconnects_and_loses_nothing(bot: InProcessSocketBot,
                                                         socket_mode: FakeSocketMode,
                                                         fake: FakeSlack) -> None:
    # Slack closes the old connection a few seconds after its message; not within this test,
    # so only the bot's answer to the message can open the new one
    socket_mode.disconnect_grace = 60
    opened = len(fake.calls("apps.connections.open"))
    first = socket_mode.disconnect("refresh_requested")
    bot.client.wait = False
    bot.client.command("commit Sent around the refresh by 2030-03-01")
    around = bot.client.last_envelope_id
    newest = socket_mode.wait_connected(first + 1, timeout=15)
    assert newest > first and len(fake.calls("apps.connections.open")) > opened
    assert "Recorded" in _text(socket_mode.wait_ack(around).json())
    bot.client.wait = True
    assert "Sent around the refresh" in _text(_reply(bot.client.command("list")))
    assert _titles(bot) == ["Sent around the refresh"]
    assert socket_mode.unacked() == []


@pytest.mark.parametrize(("bot", "grace"), [({"linger": 0.5}, 60.0), ({}, 2.0)],
                         indirect=["bot"], ids=["the-bot-closes-it", "slack-closes-it"])
def test_after_a_disconnect_message_the_old_connection_answers_until_the_new_one_is_open(
        bot: InProcessSocketBot, socket_mode: FakeSocketMode, fake: FakeSlack,
        grace: float) -> None:
    """Slack keeps the old connection a few seconds after asking the app to move, and sends on
    it meanwhile; the new one takes a while to open (a slow network: here 1.5 s). A command sent
    while the bot is moving is answered at once, on the old connection, which the bot keeps
    until its successor is open: there is no moment without a connection. The old one is then
    closed, by Slack or, if Slack keeps it longer than the bot's `linger`, by the bot, and its
    closing is not taken for a lost connection: nothing reconnects."""
    socket_mode.disconnect_grace = grace
    socket_mode.open_delay = 1.5
    opened = len(fake.calls("apps.connections.open"))
    first = socket_mode.disconnect("refresh_requested")
    deadline = time.monotonic() + 10
    while socket_mode.dialled < 2:  # the bot is on its way to the new connection
        assert time.monotonic() < deadline, "the bot never dialled a new connection"
        time.sleep(0.01)
    bot.client.wait = False
    bot.client.command("commit Sent while moving by 2030-03-01")
    moving = bot.client.last_envelope_id
    ack = socket_mode.wait_ack(moving, timeout=15)
    assert "Recorded" in _text(ack.json())
    assert ack.connection == first and socket_mode.envelope(moving).deliveries == [first]
    assert socket_mode.connections == first, "answered only once the new connection was open"
    socket_mode.wait_connected(first + 1, timeout=15)
    bot.client.wait = True
    assert "Sent while moving" in _text(_reply(bot.client.command("list")))
    assert socket_mode.acks()[-1].connection == first + 1  # the new one carries the answers now
    assert socket_mode.unacked() == []
    # the old one closes (its reader ends, after its on_close), and nothing replaces it
    assert bot.bot is not None
    client = bot.bot.handler.client
    deadline = time.monotonic() + 10
    while len(client.readers()) > 1 or socket_mode.open_connections > 1:
        assert time.monotonic() < deadline, "the old connection was never closed"
        time.sleep(0.02)
    assert len(fake.calls("apps.connections.open")) == opened + 1
    assert socket_mode.connections == first + 1 and socket_mode.open_connections == 1
    assert _commit(bot, "After the old one closed by 2030-03-02") == 2


# Reconnecting is watched every ping interval (PING_INTERVAL_SECONDS in production): the tests
# that wait for a reconnection shorten it, as the silent-connection test does, so they do not
# wait it out. The path is the same.
QUICK_WATCH = {"ping_interval": 1.5, "ping_timeout": 1.0}


@pytest.mark.parametrize("bot", [QUICK_WATCH], indirect=True, ids=["watch-shortened"])
@pytest.mark.parametrize("how", ["drop", "close"])
def test_lost_connection_reconnects_and_loses_nothing(bot: InProcessSocketBot,
                                                      socket_mode: FakeSocketMode,
                                                      fake: FakeSlack, how: str) -> None:
    _commit(bot, "Before the drop by 2030-03-01")
    opened = len(fake.calls("apps.connections.open"))
    lost = socket_mode.drop() if how == "drop" else socket_mode.close()
    bot.client.wait = False
    bot.client.command("commit While away by 2030-03-02")  # queued: no connection is open
    while_away = bot.client.last_envelope_id
    socket_mode.wait_connected(lost + 1, timeout=15)
    assert len(fake.calls("apps.connections.open")) > opened
    assert "Recorded" in _text(socket_mode.wait_ack(while_away).json())
    assert _titles(bot) == ["Before the drop", "While away"]
    assert socket_mode.unacked() == []


@pytest.mark.parametrize("bot", [QUICK_WATCH], indirect=True, ids=["pings-shortened"])
def test_silent_connection_is_noticed_and_replaced(bot: InProcessSocketBot,
                                                  socket_mode: FakeSocketMode,
                                                  fake: FakeSlack) -> None:
    """Only the bot's own ping deadline can tell a silent path from a quiet one.

    The handler's pings are shortened here (1.5 s, 1 s to answer; production pings every
    PING_INTERVAL_SECONDS and waits PING_TIMEOUT_SECONDS) so the test does not wait them out;
    the path is the same: the unanswered ping ends the session and the client reconnects. (Half
    a second to answer was too tight on two busy CPUs: a healthy new connection could miss it.)
    """
    opened = len(fake.calls("apps.connections.open"))
    frozen = socket_mode.freeze()  # no FIN, no pongs: only the bot's ping deadline can tell
    bot.client.wait = False
    bot.client.command("commit Through the silence by 2030-03-03")
    queued = bot.client.last_envelope_id
    socket_mode.wait_connected(frozen + 1, timeout=30)
    assert len(fake.calls("apps.connections.open")) > opened
    assert "Recorded" in _text(socket_mode.wait_ack(queued).json())
    assert _titles(bot) == ["Through the silence"]


@pytest.mark.parametrize("bot", [QUICK_WATCH], indirect=True, ids=["watch-shortened"])
def test_connection_lost_before_the_ack_is_handled_once(bot: InProcessSocketBot,
                                                        socket_mode: FakeSocketMode) -> None:
    first = socket_mode.wait_connected()
    socket_mode.lose_next_ack()
    bot.client.wait = False
    bot.client.command("commit Exactly once by 2030-04-01")
    eid = bot.client.last_envelope_id
    socket_mode.wait_connected(first + 1, timeout=15)
    ack = socket_mode.wait_ack(eid)
    env = socket_mode.envelope(eid)
    assert len(env.deliveries) >= 2 and env.retry_attempt == len(env.deliveries) - 1
    assert "Recorded *#1*" in _text(ack.json())  # the first answer, sent again
    assert _titles(bot) == ["Exactly once"]


# ---------------------------------------------------------------- redelivery


def test_redelivered_envelope_is_answered_not_redone(bot: InProcessSocketBot,
                                                     socket_mode: FakeSocketMode,
                                                     fake: FakeSlack) -> None:
    cid = _commit(bot, "Only one by 2030-05-01")
    eid = bot.client.last_envelope_id
    socket_mode.redeliver(eid)
    acks = _wait_acks(socket_mode, eid, 2)
    assert acks[0].payload == acks[1].payload and f"#{cid}" in _text(acks[1].json())
    assert _titles(bot) == ["Only one"]

    listing = _reply(bot.client.command("list"))
    bot.client.block_action("wg_done", blocks=listing["blocks"], value=f"{cid}|list:mine::1")
    click = bot.client.last_envelope_id
    fake.wait_for("response_url", predicate=lambda c: c.params.get("replace_original"))
    socket_mode.redeliver(click)
    _wait_acks(socket_mode, click, 2)
    fake.settle(quiet=0.5)
    assert len(fake.calls("response_url")) == 1  # the click's reply went out once


def test_same_command_in_a_new_envelope_is_handled_once(bot: InProcessSocketBot,
                                                        socket_mode: FakeSocketMode) -> None:
    _commit(bot, "Retried by 2030-05-03")
    payload = socket_mode.envelope(bot.client.last_envelope_id).payload
    retry = socket_mode.send("slash_commands", payload, retry_attempt=1, retry_reason="timeout")
    socket_mode.wait_ack(retry)
    assert _titles(bot) == ["Retried"]


def test_redelivery_while_the_first_is_at_work_waits_for_its_answer(
        bot: InProcessSocketBot, socket_mode: FakeSocketMode, fake: FakeSlack) -> None:
    fake.delay("users.info", 1.0)
    bot.client.wait = False
    bot.client.command("commit Slow one by 2030-05-02", user_id="U0NEWCOMER")
    eid = bot.client.last_envelope_id
    fake.wait_for("users.info", predicate=lambda c: c.params.get("user") == "U0NEWCOMER")
    socket_mode.redeliver(eid)  # Slack gave up waiting while the bot is still at work
    acks = _wait_acks(socket_mode, eid, 2)
    assert acks[0].payload == acks[1].payload and "Recorded *#1*" in _text(acks[0].json())
    assert _titles(bot) == ["Slow one"]


def test_redelivered_event_publishes_once(bot: InProcessSocketBot, socket_mode: FakeSocketMode,
                                          fake: FakeSlack) -> None:
    bot.client.app_home_opened(MEMBER, event_id="Ev0HOMEONCE")
    fake.wait_for("views.publish")
    # Slack's retry: the same event in a new envelope, with retry_attempt set
    bot.client.app_home_opened(MEMBER, event_id="Ev0HOMEONCE", retry_num=1,
                               retry_reason="timeout")
    retry = bot.client.last_envelope_id
    assert socket_mode.envelope(retry).retry_attempt == 1 and socket_mode.acks(retry)
    fake.settle(quiet=1.0)
    assert len(fake.calls("views.publish")) == 1


def _wait_acks(socket_mode: FakeSocketMode, eid: str, count: int, timeout: float = 10) -> list[Ack]:
    deadline = time.monotonic() + timeout
    while len(socket_mode.acks(eid)) < count:
        assert time.monotonic() < deadline, f"{len(socket_mode.acks(eid))} acks for {eid}"
        time.sleep(0.02)
    return socket_mode.acks(eid)


# ---------------------------------------------------------------- starting and stopping


def test_wgbot_socket_answers_then_a_sigterm_finishes_the_envelope_at_work(
        bot_process: SocketBotProcess, socket_mode: FakeSocketMode, fake: FakeSlack) -> None:
    """`wgbot socket` answers in the acks; SIGTERM lets the envelope at work finish, then exits 0."""
    bot = bot_process
    _answers_in_the_ack(bot, socket_mode)
    fake.delay("users.info", 1.5)
    bot.client.wait = False
    bot.client.command("commit In flight by 2030-06-02", user_id="U0NEWCOMER")
    eid = bot.client.last_envelope_id
    fake.wait_for("users.info", predicate=lambda c: c.params.get("user") == "U0NEWCOMER")
    assert bot.stop(signal.SIGTERM, timeout=15) == 0
    assert "Recorded" in _text(socket_mode.wait_ack(eid, timeout=1).json())
    assert _titles(bot) == ["Draft guidelines", "In flight"]
    log = bot.log_text()
    assert "Traceback" not in log and "wgbot socket stopping" in log


_TGKILL = {"x86_64": 234, "aarch64": 131}  # syscall numbers: a signal to one thread


def _signal_another_thread(pid: int, sig: int) -> None:
    """Deliver `sig` to a thread other than the main one, as the kernel may choose to."""
    threads = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid)
    assert threads, "the bot runs no other thread"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(_TGKILL[platform.machine()], pid, threads[-1], int(sig)) != 0:
        raise OSError(ctypes.get_errno(), "tgkill failed")


@pytest.mark.skipif(platform.machine() not in _TGKILL or not Path("/proc/self/task").exists(),
                    reason="needs Linux on x86_64 or aarch64 to signal one thread")
def test_wgbot_run_chooses_the_socket_and_stops_on_a_sigterm_taken_by_another_thread(
        socket_mode: FakeSocketMode, config_dir: Path, tmp_path: Path) -> None:
    """`wgbot run` with an app token is Socket Mode; a SIGTERM the kernel hands to a thread other
    than the main one still stops it cleanly."""
    with SocketBotProcess(socket_mode, command="run", config_dir=config_dir,
                          tmp_dir=tmp_path / "proc") as bot:
        _answers_in_the_ack(bot, socket_mode)
        assert bot.pid is not None
        _signal_another_thread(bot.pid, signal.SIGTERM)
        bot.wait_for_log("wgbot socket stopping", timeout=5)
        assert bot.stop(signal.SIGTERM) == 0
    assert _titles(bot) == ["Draft guidelines"]


@pytest.mark.skipif(platform.machine() not in _TGKILL or not Path("/proc/self/task").exists(),
                    reason="needs Linux on x86_64 or aarch64 to signal one thread")
def test_wgbot_clock_also_stops_on_a_sigterm_taken_by_another_thread(
        fake: FakeSlack, config_dir: Path, tmp_path: Path) -> None:
    proc = SocketBotProcess(FakeSocketMode(fake), command="clock", config_dir=config_dir,
                            tmp_dir=tmp_path / "proc")
    proc._wait_healthy = lambda timeout: "ok"  # type: ignore[method-assign]  # no socket here
    try:
        proc.start()
        proc.wait_for_log("wgbot clock running", timeout=20)
        assert proc.pid is not None
        _signal_another_thread(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while proc.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not proc.running, "wgbot clock ignored the SIGTERM"
        assert proc.stop() == 0
    finally:
        proc.close()


def test_an_app_token_slack_refuses_stops_with_one_line(socket_mode: FakeSocketMode,
                                                        config_dir: Path, tmp_path: Path) -> None:
    proc = SocketBotProcess(socket_mode, app_token="xoxb-not-an-app-token",
                            config_dir=config_dir, tmp_dir=tmp_path / "proc")
    try:
        with pytest.raises(RuntimeError, match="exited"):
            proc.start(timeout=20)
        log = proc.log_text()
        assert proc.returncode == 2, log
        assert "not_allowed_token_type" in log and "SLACK_APP_TOKEN" in log
        assert "Traceback" not in log
    finally:
        proc.close()
