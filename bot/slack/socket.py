"""Socket Mode: Slack's envelopes over a WebSocket, each handled once however often it arrives."""
from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.interval_runner import IntervalRunner
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.websocket_client import SocketModeClient
from websocket import ABNF, STATUS_NORMAL, WebSocketException

log = logging.getLogger("wgbot.socket")

RECENT_ENVELOPES = 2000
# Slack waits 3 s for an ack; a redelivery waits that long for the first delivery's answer.
ANSWER_WAIT_SECONDS = 3.0
# A ping every 5 s (as slack_sdk's built-in client); no pong within 2 s: the connection is dead.
PING_INTERVAL_SECONDS = 5.0
PING_TIMEOUT_SECONDS = 2.0
OPEN_WAIT_SECONDS = 10.0  # the first connection; after that the watch retries on its own
# How often the reader looks for a new connection to read (slack_sdk's looks every 0.5 s, so a
# start and every reconnection waited up to that long before the new connection was read; a
# look that finds nothing new costs next to nothing).
READER_TURN_SECONDS = 0.02


class SocketModeRefused(Exception):
    """Slack would not open a Socket Mode connection (bad app token, Socket Mode off)."""


@dataclass
class _Handling:
    done: threading.Event = field(default_factory=threading.Event)
    response: BoltResponse | None = None


class EnvelopeLedger:
    """The most recent envelope ids and the answer given to each, so a redelivery is not redone."""

    def __init__(self, size: int = RECENT_ENVELOPES) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, _Handling] = OrderedDict()

    def claim(self, envelope_id: str) -> tuple[_Handling, bool]:
        """The handling of an envelope, and True when this delivery is the first to claim it."""
        with self._lock:
            known = self._seen.get(envelope_id)
            if known is not None:
                return known, False
            handling = self._seen[envelope_id] = _Handling()
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return handling, True

    def settle(self, envelope_id: str, handling: _Handling, response: BoltResponse | None) -> None:
        """Record the answer; a failed handling is forgotten so a redelivery may try again."""
        handling.response = response
        if response is None or response.status != 200:
            with self._lock:
                if self._seen.get(envelope_id) is handling:
                    del self._seen[envelope_id]
        handling.done.set()


class _SocketModeClient(SocketModeClient):
    """slack_sdk's websocket-client Socket Mode client, reading with a pong deadline.

    Without one, the reader waits up to 10 s in select() when a replaced connection is closed
    under it, and never notices a peer that went silent; with one it wakes every
    ``ping_timeout`` seconds and reconnects when a ping goes unanswered that long.
    """

    def __init__(self, *, ping_timeout: float, **kwargs: Any) -> None:
        self.ping_timeout = ping_timeout
        self._opened_at = 0.0
        self._finished: Any = None  # the last session whose reader has returned
        super().__init__(**kwargs)
        self.current_session_runner.shutdown()  # slack_sdk's, turning every 0.5 s
        self.current_session_runner = IntervalRunner(self._run_current_session,
                                                     READER_TURN_SECONDS).start()
        self.on_error_listeners.append(self._stop_reading)

    @staticmethod
    def _stop_reading(session: Any, error: Exception) -> None:
        """A connection failed (a ping went unanswered, the peer reset it) and websocket-client
        closes it next: its close waits up to 3 s for the peer's goodbye, which a silent peer
        never sends, while the one reader thread leaves the new connection unread. Shut for
        reading first, the close still sends its own goodbye and returns at once. (An error
        raised by a callback is reported here too; it leaves the connection as it is.)"""
        if not isinstance(error, WebSocketException | OSError):
            return
        raw = getattr(getattr(session, "sock", None), "sock", None)
        if raw is not None:
            with contextlib.suppress(OSError):
                raw.shutdown(socket.SHUT_RD)

    def is_connected(self) -> bool:
        """Open, or about to be: a new session the reader has not run yet is not a lost one.

        slack_sdk's watch replaces any session without a socket. A session is made before the
        reader (on its next turn) opens its socket, so on a busy machine the watch used to
        replace it before it opened: the reader then ran the replaced session and left its
        successor unread, and envelopes went unacked on a connection nobody answered. A new
        session is given OPEN_WAIT_SECONDS to open, unless its reader has already given up on it.
        """
        session = self.current_session
        if session is None:
            return False
        if session.sock is not None:
            return True
        return (not self.closed and session is not self._finished
                and time.monotonic() - self._opened_at < OPEN_WAIT_SECONDS)

    def connect(self) -> None:
        """Open a connection; the first time, return once it is open (or OPEN_WAIT_SECONDS
        passed) and only then start the watch that replaces a closed one. Started together, the
        watch looked before the reader (on its next turn) had opened the first connection and
        opened a second one."""
        first = not self.current_app_monitor_started
        self.current_app_monitor_started = True  # slack_sdk starts the watch unless it is set
        self._opened_at = time.monotonic()  # before the new session exists: the watch may look
        super().connect()
        if first:
            deadline = time.monotonic() + OPEN_WAIT_SECONDS
            while (self.current_session is None or self.current_session.sock is None) and \
                    time.monotonic() < deadline and not self.closed:
                time.sleep(0.01)
            self.current_app_monitor.start()

    def _run_current_session(self) -> None:
        session = self.current_session
        if session is None or session is self._finished:
            return  # run each session once: the watch replaces one that has ended
        try:
            self.logger.info("Starting to receive messages from a new connection")
            session.run_forever(ping_interval=self.ping_interval, ping_timeout=self.ping_timeout,
                                http_proxy_host=self.http_proxy_host,
                                http_proxy_port=self.http_proxy_port,
                                http_proxy_auth=self.http_proxy_auth, proxy_type=self.proxy_type)
            self.logger.info("Stopped receiving messages from a connection")
        except Exception as e:
            self.logger.warning("Socket Mode connection failed: %s: %s", type(e).__name__, e)
            session.close()
        finally:
            self._finished = session


class OnceSocketModeHandler(BaseSocketModeHandler):
    """Bolt's Socket Mode handler (websocket-client), answering a redelivered envelope from memory.

    Slack redelivers an envelope whose ack it did not get, e.g. when the connection was replaced
    between the work and the ack; the work is not done again, the recorded answer is sent.
    """

    def __init__(self, app: App, app_token: str, *, ledger: EnvelopeLedger | None = None,
                 ping_interval: float = PING_INTERVAL_SECONDS,
                 ping_timeout: float = PING_TIMEOUT_SECONDS) -> None:
        self.app = app
        self.app_token = app_token
        self.ledger = ledger or EnvelopeLedger()
        self.client = _SocketModeClient(app_token=app_token, logger=app.logger,
                                        web_client=app.client, ping_interval=ping_interval,
                                        ping_timeout=ping_timeout)
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        """Run the Bolt app for a new envelope; re-send the answer for one seen before."""
        start = time.time()
        handling, first = self.ledger.claim(req.envelope_id)
        if first:
            response: BoltResponse | None = None
            try:
                response = run_bolt_app(self.app, req)
            finally:
                self.ledger.settle(req.envelope_id, handling, response)
        else:
            log.info("envelope %s delivered again (retry %s); answering from memory",
                     req.envelope_id, req.retry_attempt)
            if not handling.done.wait(ANSWER_WAIT_SECONDS) or handling.response is None:
                return  # the first delivery is still at work (or failed): it acks for itself
            response = handling.response
        try:
            send_response(client, req, response, start)
        except Exception as e:  # the connection went away; Slack redelivers
            log.warning("could not ack envelope %s (%s: %s); Slack will deliver it again",
                        req.envelope_id, type(e).__name__, e)

    def connect(self) -> None:
        """Open the first connection; SocketModeRefused when Slack will not give one."""
        try:
            super().connect()
        except SlackApiError as e:
            raise SocketModeRefused(
                f"Slack refused to open a Socket Mode connection ({e.response.get('error')}): "
                "check SLACK_APP_TOKEN (an app-level xapp- token with connections:write) and "
                "that Socket Mode is on in the app's settings") from e

    def close(self) -> None:
        """Stop taking envelopes, let those at work finish and ack, then close the connection
        and wait (a bounded while) for the client's reader and monitor threads to end."""
        client = self.client
        client.auto_reconnect_enabled = False
        client.closed = True  # the message processor stops taking queued envelopes
        client.message_queue.put(None)  # and stops waiting (1 s) for the next one: nothing
        client.message_processor.shutdown()
        client.message_workers.shutdown(wait=True)
        runners = (client.current_session_runner, client.current_app_monitor)
        for runner in runners:
            runner.event.set()
        session = client.current_session
        if session is not None:
            session.keep_running = False  # the reader ends when it next wakes, and closes it
            ws = session.sock
            if ws is not None and ws.connected:
                try:
                    ws.send(struct.pack("!H", STATUS_NORMAL), ABNF.OPCODE_CLOSE)  # goodbye
                except Exception:  # the connection is gone already
                    pass
                # Shut down, not closed: the reader wakes now, or finds the socket shut when it
                # next waits. (A socket closed under a reader about to wait is never seen: the
                # reader would sleep on until its ping deadline.)
                ws.abort()
        # A reader still on a connection replaced (and closed) under it wakes at its ping
        # deadline; one opening a connection may take longer: they are daemons, left to exit.
        deadline = time.monotonic() + client.ping_timeout + 1.0
        for runner in runners:
            if runner.is_alive():
                runner.thread.join(max(0.0, deadline - time.monotonic()))
                if runner.thread.is_alive():
                    log.warning("a Socket Mode thread (%s) is still running after close",
                                runner.thread.name)
