"""Socket Mode: Slack's envelopes over a WebSocket, each handled once however often it arrives."""
from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.websocket_client import SocketModeClient
from websocket import ABNF, STATUS_NORMAL, WebSocketApp, WebSocketException

log = logging.getLogger("wgbot.socket")

RECENT_ENVELOPES = 2000
# Slack waits 3 s for an ack; a redelivery waits that long for the first delivery's answer.
ANSWER_WAIT_SECONDS = 3.0
# A ping every 5 s (as slack_sdk's built-in client); no pong within 2 s: the connection is dead.
PING_INTERVAL_SECONDS = 5.0
PING_TIMEOUT_SECONDS = 2.0
OPEN_WAIT_SECONDS = 10.0  # the first connection; after that the watch retries on its own
# A connection replaced at Slack's request stays open, read, for Slack to close (it does a few
# seconds on, and may send on it until then); the bot closes it itself after this long.
LINGER_SECONDS = 15.0


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
    """slack_sdk's websocket-client Socket Mode client, with three changes.

    * Each connection is read by a thread of its own, started with it (slack_sdk's one reader
      looked for a new connection every 0.5 s, and could not read two at once).
    * It reads with a pong deadline. Without one, a reader waits up to 10 s in select() when its
      connection is closed under it, and never notices a peer that went silent; with one it
      wakes every ``ping_timeout`` seconds and reconnects when a ping goes unanswered that long.
    * A new connection that replaces an open one (Slack's ``disconnect``, asking the app to move)
      is made before the old one is given up: the old one answers until the new one is open,
      then stays open, read, until Slack closes it (Slack keeps it a few seconds and may still
      send on it); after ``linger`` seconds the bot closes it itself. slack_sdk closed the old one
      at once, leaving no connection until the new one opened: an envelope sent meanwhile was
      lost with the old connection.
    """

    def __init__(self, *, ping_timeout: float, linger: float, **kwargs: Any) -> None:
        self.ping_timeout = ping_timeout
        self.linger = linger
        self._opened_at = 0.0
        self._sessions_lock = threading.RLock()
        self._pending: WebSocketApp | None = None  # opening, to take over once open
        self._replaced: list[WebSocketApp] = []  # taken over, read until they close
        self._open: weakref.WeakSet[WebSocketApp] = weakref.WeakSet()
        self._ended: weakref.WeakSet[WebSocketApp] = weakref.WeakSet()
        self._readers: list[threading.Thread] = []
        self._started = 0
        self._failed: weakref.WeakKeyDictionary[WebSocketApp, Any] = weakref.WeakKeyDictionary()
        self._linger_timers: list[threading.Timer] = []
        super().__init__(**kwargs)
        self.current_session_runner.shutdown()  # slack_sdk's one reader: each has its own

    @staticmethod
    def _stop_reading(session: Any, error: Exception) -> None:
        """A connection failed (a ping went unanswered, the peer reset it) and websocket-client
        closes it next: its close waits up to 3 s for the peer's goodbye, which a silent peer
        never sends. Shut for reading first, the close still sends its own goodbye and returns
        at once. (An error raised by a callback is reported here too; it leaves the connection
        as it is.)"""
        if not isinstance(error, WebSocketException | OSError):
            return
        raw = getattr(getattr(session, "sock", None), "sock", None)
        if raw is not None:
            with contextlib.suppress(OSError):
                raw.shutdown(socket.SHUT_RD)

    def sessions(self) -> list[WebSocketApp]:
        """Every connection the client holds: the current one, one opening, ones replaced."""
        with self._sessions_lock:
            held = [self.current_session, self._pending, *self._replaced]
        return [s for s in held if s is not None]

    def readers(self) -> list[threading.Thread]:
        """The reading threads still running."""
        with self._sessions_lock:
            self._readers = [t for t in self._readers if t.is_alive()]
            return list(self._readers)

    def is_connected(self) -> bool:
        """Open, or about to be: a new connection still opening is not a lost one.

        slack_sdk's watch replaces any connection without a socket. One is made before its
        reader opens its socket, so on a busy machine the watch used to replace it before it
        opened. A new connection is given OPEN_WAIT_SECONDS to open, unless its reader has
        already given up on it.
        """
        with self._sessions_lock:
            candidates = [self.current_session, self._pending]
        for session in candidates:
            if session is None:
                continue
            if session.sock is not None:
                return True
            if (not self.closed and session not in self._ended
                    and time.monotonic() - self._opened_at < OPEN_WAIT_SECONDS):
                return True
        return False

    def connect(self) -> None:
        """Open a connection; the first time, return once it is open (or OPEN_WAIT_SECONDS
        passed) and only then start the watch that replaces a closed one. Started together, the
        watch looked before the first connection was open and opened a second one."""
        first = not self.current_app_monitor_started
        self.current_app_monitor_started = True  # the watch starts below, not in slack_sdk
        if self.wss_uri is None:
            self.wss_uri = self.issue_new_wss_url()
        session = WebSocketApp(self.wss_uri, on_open=self._on_open, on_message=self._on_message,
                               on_error=self._on_error, on_close=self._on_close)
        self.auto_reconnect_enabled = self.default_auto_reconnect_enabled
        with self._sessions_lock:
            self._opened_at = time.monotonic()
            old, pending = self.current_session, self._pending
            if old is not None and old in self._open and not self.closed:
                self._pending = session  # the old one answers until this one is open
                dropped = [pending] if pending is not None else []
            else:
                self.current_session, self._pending = session, None
                dropped = [s for s in (old, pending) if s is not None]
            self._started += 1
            reader = threading.Thread(target=self._read, args=(session,), daemon=True,
                                      name=f"wgbot-socket-reader-{self._started}")
            self._readers = [*(t for t in self._readers if t.is_alive()), reader]
            reader.start()  # before another connect() can drop it, so that it is read or closed
        for gone in dropped:
            gone.close()
        self.logger.info("A new session has been established")
        if first:
            deadline = time.monotonic() + OPEN_WAIT_SECONDS
            while session not in self._open and session not in self._ended and \
                    time.monotonic() < deadline and not self.closed:
                time.sleep(0.01)
            self.current_app_monitor.start()

    def disconnect(self) -> None:
        """Close every connection the client holds."""
        self.disconnect_timers()
        for session in self.sessions():
            session.close()

    def disconnect_timers(self) -> None:
        """Cancel the closing of replaced connections still to come (close() closes them)."""
        with self._sessions_lock:
            timers, self._linger_timers = self._linger_timers, []
        for timer in timers:
            timer.cancel()

    def _on_open(self, session: WebSocketApp) -> None:
        with self._sessions_lock:
            self._open.add(session)
            if session is self._pending:
                old, self.current_session, self._pending = self.current_session, session, None
                if old is not None and old in self._open:
                    self._replaced.append(old)
                    timer = threading.Timer(self.linger, self._close_replaced, args=(old,))
                    timer.name, timer.daemon = "wgbot-socket-linger", True
                    self._linger_timers = [*(t for t in self._linger_timers if t.is_alive()),
                                           timer]
                    timer.start()
        for listener in self.on_open_listeners:
            listener(session)

    def _close_replaced(self, session: WebSocketApp) -> None:
        if session.sock is not None:
            self.logger.info("Closing a replaced connection Slack has not closed")
            session.close()

    def _on_message(self, session: WebSocketApp, message: str) -> None:
        self.enqueue_message(message)
        for listener in self.on_message_listeners:
            listener(session, message)

    def _on_error(self, session: WebSocketApp, error: Exception) -> None:
        with self._sessions_lock:  # its socket, which websocket-client's close may leave open
            self._failed[session] = session.sock
        self._stop_reading(session, error)
        self.logger.error("on_error invoked (error: %s, message: %s)", type(error).__name__, error)
        for listener in self.on_error_listeners:
            listener(session, error)

    def _on_close(self, session: WebSocketApp, code: int | None = None,
                  reason: str | None = None) -> None:
        with self._sessions_lock:
            self._open.discard(session)
            replaced = session in self._replaced
            if replaced:  # its successor is open: nothing to reconnect
                self._replaced.remove(session)
        if not replaced and self.auto_reconnect_enabled:
            self.logger.info("Received CLOSE event. Reconnecting...")
            self.connect_to_new_endpoint()
        for listener in self.on_close_listeners:
            listener(session)

    def _read(self, session: WebSocketApp) -> None:
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
            with self._sessions_lock:
                self._ended.add(session)
                self._open.discard(session)
                failed = self._failed.pop(session, None)
            if failed is not None:
                # websocket-client closes a connection only if it still counts it as connected:
                # one that failed before or after its handshake kept its socket open until the
                # garbage collector found it
                failed.shutdown()


class OnceSocketModeHandler(BaseSocketModeHandler):
    """Bolt's Socket Mode handler (websocket-client), answering a redelivered envelope from memory.

    Slack redelivers an envelope whose ack it did not get, e.g. when the connection was replaced
    between the work and the ack; the work is not done again, the recorded answer is sent.
    """

    def __init__(self, app: App, app_token: str, *, ledger: EnvelopeLedger | None = None,
                 ping_interval: float = PING_INTERVAL_SECONDS,
                 ping_timeout: float = PING_TIMEOUT_SECONDS,
                 linger: float = LINGER_SECONDS) -> None:
        self.app = app
        self.app_token = app_token
        self.ledger = ledger or EnvelopeLedger()
        self.client = _SocketModeClient(app_token=app_token, logger=app.logger,
                                        web_client=app.client, ping_interval=ping_interval,
                                        ping_timeout=ping_timeout, linger=linger)
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
        """Stop taking envelopes, let those at work finish and ack, then close the connections
        and wait (a bounded while) for the client's reader and monitor threads to end."""
        client = self.client
        client.auto_reconnect_enabled = False
        client.closed = True  # the message processor stops taking queued envelopes
        client.message_queue.put(None)  # and stops waiting (1 s) for the next one: nothing
        client.message_processor.shutdown()
        client.message_workers.shutdown(wait=True)
        client.current_app_monitor.event.set()
        client.disconnect_timers()
        for session in client.sessions():
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
        # A reader still on a connection closed under it wakes at its ping deadline; one
        # opening a connection may take longer: they are daemons, left to exit.
        deadline = time.monotonic() + client.ping_timeout + 1.0
        threads = [*client.readers()]
        if client.current_app_monitor.is_alive():
            threads.append(client.current_app_monitor.thread)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("a Socket Mode thread (%s) is still running after close", thread.name)
