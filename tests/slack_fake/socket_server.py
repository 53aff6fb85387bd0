"""A fake Slack Socket Mode server on 127.0.0.1, attached to a FakeSlack.

The bot calls ``apps.connections.open`` on the fake Web API with its app-level token and gets a
``ws://127.0.0.1:PORT/link/?ticket=…`` URL served here. Each new connection gets ``hello``, then
the envelopes the test sends (``slash_commands``, ``interactive``, ``events_api``), each with an
``envelope_id``; the bot acks with ``{"envelope_id": …, "payload": …}``, which is recorded.

Like Slack, the fake redelivers what was not acked: every envelope whose connection went away
before its ack is sent again (``retry_attempt`` + 1) on the next connection, and one not acked
within ``ack_timeout`` is sent again on the same one, at most ``max_attempts`` times in all. The
number of connections it accepts is bounded, so a bot that reconnects in a loop cannot run away.
Faults: ``disconnect()`` (Slack's refresh request), ``drop()`` (the TCP connection cut, no close
frame), ``close()`` (a close frame), ``freeze()`` (the path goes silent: connections pass through
a TCP relay that stops moving bytes), ``lose_next_ack()`` (the connection dies as an ack
arrives) and ``open_delay`` (each new connection's bytes held that many seconds: a slow network,
so its handshake completes late).

``SocketSlack`` is Slack's side for tests: the SlackClient's payload builders (commands, clicks,
submissions, events) delivered as envelopes instead of signed HTTP POSTs.
"""
from __future__ import annotations

import itertools
import json
import secrets
import selectors
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from bot.app import SocketBot
from bot.clock import Clock
from bot.settings import Settings

from .client import SlackClient
from .process import BOT_TOKEN, BotProcess
from .server import APP_ID, FakeSlack

ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")
APP_TOKEN = f"xapp-1-{APP_ID}-1-test"
_PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                    "all_proxy")


@dataclass
class Envelope:
    """One envelope Slack owes the app until it is acked."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    retry_attempt: int = 0
    retry_reason: str = ""
    deliveries: list[int] = field(default_factory=list)  # connection numbers, in order
    sent_at: float = 0.0
    acked: bool = False

    def message(self) -> dict[str, Any]:
        """The JSON Slack sends over the socket."""
        return {"envelope_id": self.envelope_id, "type": self.type, "payload": self.payload,
                "accepts_response_payload": self.accepts_response_payload,
                "retry_attempt": self.retry_attempt, "retry_reason": self.retry_reason}


@dataclass
class Ack:
    """What the app sent back for an envelope."""

    envelope_id: str
    payload: dict[str, Any] | None
    connection: int
    at: float

    def json(self) -> dict[str, Any]:
        """The ack's payload ({} when it had none), like a response body over HTTP."""
        return dict(self.payload or {})


@dataclass
class _Link:
    number: int
    ticket: str
    ws: ServerConnection
    opened_at: float
    closed: bool = False
    frozen: bool = False


class FakeSocketMode:
    """The Socket Mode WebSocket server. Attach it to a FakeSlack, then start()/stop()."""

    def __init__(self, fake: FakeSlack, *, ack_timeout: float = 5.0, max_attempts: int = 4,
                 max_connections: int = 20, disconnect_grace: float = 3.0) -> None:
        self.fake = fake
        self.ack_timeout = ack_timeout
        self.max_attempts = max_attempts
        self.max_connections = max_connections
        self.disconnect_grace = disconnect_grace
        self.open_delay = 0.0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ids = itertools.count(1)
        self._tickets: dict[str, int] = {}
        self._links: list[_Link] = []
        self._envelopes: dict[str, Envelope] = {}
        self._acks: list[Ack] = []
        self._unknown_acks: list[dict[str, Any]] = []
        self._refused = 0
        self._acks_to_lose = 0
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._relay: _Relay | None = None
        self._timers: list[threading.Timer] = []
        fake.socket_mode = self  # type: ignore[attr-defined]  # answers apps.connections.open

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Listen on a free port of 127.0.0.1 in a daemon thread."""
        if self._server is None:
            self._server = serve(self._serve_link, "127.0.0.1", 0, ping_interval=None,
                                 close_timeout=1)
            self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                            name="FakeSocketMode")
            self._thread.start()
            self._relay = _Relay(int(self._server.socket.getsockname()[1]), self).start()
        return self

    def stop(self) -> None:
        """Close every connection and stop listening."""
        server, self._server = self._server, None
        if server is None:
            return
        if self._relay is not None:
            self._relay.stop()
        with self._lock:
            links = list(self._links)
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()
        for link in links:
            self._abort(link)
        server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        """Start the server."""
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Stop the server."""
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._relay is None:
            raise RuntimeError("FakeSocketMode is not started")
        return self._relay.port

    # ------------------------------------------------------------------ apps.connections.open

    def open_connection(self, token: str | None) -> dict[str, Any]:
        """The body of apps.connections.open: a fresh single-use ws:// URL."""
        if not token or not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        ticket = secrets.token_hex(8)
        with self._lock:
            self._tickets[ticket] = 0
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}"
                                   f"&app_id={APP_ID}"}

    # ------------------------------------------------------------------ the test's side

    def send(self, type: str, payload: Mapping[str, Any], *, envelope_id: str | None = None,
             retry_attempt: int = 0, retry_reason: str = "") -> str:
        """Queue an envelope for the app (sent now if it is connected); its envelope_id."""
        if type not in ENVELOPE_TYPES:
            raise ValueError(f"unknown envelope type {type!r}")
        accepts = type == "slash_commands" or (
            type == "interactive" and payload.get("type") in ("view_submission",
                                                              "block_suggestion"))
        env = Envelope(envelope_id=envelope_id or f"{secrets.token_hex(4)}-{next(self._ids):04d}",
                       type=type, payload=json.loads(json.dumps(payload)),
                       accepts_response_payload=accepts, retry_attempt=retry_attempt,
                       retry_reason=retry_reason)
        with self._lock:
            self._envelopes[env.envelope_id] = env
            link = self._current()
            if link is not None:
                self._deliver(link, env)
        return env.envelope_id

    def redeliver(self, envelope_id: str, *, reason: str = "timeout") -> None:
        """Send an envelope again, acked or not, as Slack does when an ack went astray."""
        with self._lock:
            env = self._envelopes[envelope_id]
            env.acked = False
            env.retry_attempt += 1
            env.retry_reason = reason
            link = self._current()
            if link is not None:
                self._deliver(link, env)

    def disconnect(self, reason: str = "refresh_requested") -> int:
        """Ask the app to reconnect; the old connection closes once a new one said hello.

        Returns the number of the connection that was told (Slack closes it itself a few
        seconds later, whether or not the app moved: ``disconnect_grace``).
        """
        with self._lock:
            link = self._current()
            if link is None:
                raise AssertionError("no open connection to disconnect")
            self._post(link, {"type": "disconnect", "reason": reason,
                              "debug_info": {"host": "applink-fake"}})
            number = link.number
        timer = threading.Timer(self.disconnect_grace, self._close_number, args=(number,))
        timer.name = f"FakeSocketMode-disconnect:{number}"
        timer.daemon = True
        with self._lock:
            self._timers.append(timer)
        timer.start()
        return number

    def drop(self) -> int:
        """Cut the current connection without a close frame (a network failure); its number."""
        with self._lock:
            link = self._current()
            if link is None:
                raise AssertionError("no open connection to drop")
        self._abort(link)
        return link.number

    def close(self, code: int = 1001, reason: str = "going away") -> int:
        """Close the current connection with a close frame; its number."""
        with self._lock:
            link = self._current()
            if link is None:
                raise AssertionError("no open connection to close")
            link.closed = True
        try:
            link.ws.close(code, reason)
        except Exception:  # the peer may be gone already
            pass
        return link.number

    def freeze(self) -> int:
        """The network path of the current connection goes silent (no FIN): nothing passes
        either way, pings included; the app has to notice by itself. Returns its number."""
        with self._lock:
            link = self._current()
            if link is None:
                raise AssertionError("no open connection to freeze")
            link.frozen = True
        assert self._relay is not None
        self._relay.freeze_all()
        return link.number

    def lose_next_ack(self, count: int = 1) -> None:
        """The connection dies as the next ack arrives, so Slack never gets it (and redelivers)."""
        with self._lock:
            self._acks_to_lose += count

    # ------------------------------------------------------------------ inspection

    @property
    def connections(self) -> int:
        """How many connections the app has made so far."""
        with self._lock:
            return len(self._links)

    @property
    def open_connections(self) -> int:
        """How many connections are open now (a frozen one is not)."""
        with self._lock:
            return sum(1 for link in self._links if not (link.closed or link.frozen))

    def connected_since(self, before: int) -> bool:
        """A connection was opened after `before` (a count of connections) and one is open."""
        return self.connections > before and self.open_connections > 0

    @property
    def dialled(self) -> int:
        """TCP connections the app has opened to the server, whether or not they got through."""
        return self._relay.accepted if self._relay is not None else 0

    @property
    def refused(self) -> int:
        """Connections refused (unknown or reused ticket, or over max_connections)."""
        with self._lock:
            return self._refused

    def acks(self, envelope_id: str | None = None) -> list[Ack]:
        """Every ack received (optionally for one envelope), oldest first."""
        with self._lock:
            return [a for a in self._acks if envelope_id is None or a.envelope_id == envelope_id]

    def envelope(self, envelope_id: str) -> Envelope:
        """An envelope sent to the app (with its deliveries)."""
        with self._lock:
            return self._envelopes[envelope_id]

    def unacked(self) -> list[str]:
        """Envelope ids still owed an ack."""
        with self._lock:
            return [e.envelope_id for e in self._envelopes.values() if not e.acked]

    def wait_connected(self, count: int = 1, timeout: float = 20) -> int:
        """Wait until the app has made `count` connections and one is open; the newest number."""
        with self._changed:
            if not self._changed.wait_for(
                    lambda: len(self._links) >= count and self._current() is not None, timeout):
                raise AssertionError(f"{len(self._links)} Socket Mode connection(s) within "
                                     f"{timeout}s, wanted {count} and one open")
            current = self._current()
            assert current is not None
            return current.number

    def wait_ack(self, envelope_id: str, timeout: float = 15) -> Ack:
        """Wait for the app's (first) ack of an envelope."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.acks(envelope_id), timeout):
                env = self._envelopes.get(envelope_id)
                raise AssertionError(f"no ack for envelope {envelope_id} within {timeout}s "
                                     f"(deliveries on connections {env and env.deliveries})")
            return self.acks(envelope_id)[0]

    # ------------------------------------------------------------------ the server's side

    def _current(self) -> _Link | None:
        """The newest open connection (Slack spreads envelopes; one is enough here)."""
        for link in reversed(self._links):
            if not (link.closed or link.frozen):
                return link
        return None

    def _post(self, link: _Link, message: Mapping[str, Any]) -> None:
        try:
            link.ws.send(json.dumps(message))
        except (ConnectionClosed, OSError):
            with self._changed:
                link.closed = True
                self._changed.notify_all()

    def _deliver(self, link: _Link, env: Envelope) -> None:
        env.deliveries.append(link.number)
        env.sent_at = time.monotonic()
        self._post(link, env.message())

    def _serve_link(self, ws: ServerConnection) -> None:
        """One connection: hello, redeliveries, then acks until it closes."""
        path = ws.request.path if ws.request is not None else ""
        query = dict(parse_qsl(path.partition("?")[2]))
        with self._changed:
            ticket = query.get("ticket", "")
            if self._tickets.get(ticket) != 0 or len(self._links) >= self.max_connections:
                self._refused += 1
                ws.close(1008, "invalid or reused ticket" if ticket else "no ticket")
                return
            self._tickets[ticket] = 1
            link = _Link(number=len(self._links) + 1, ticket=ticket, ws=ws,
                         opened_at=time.monotonic())
            self._links.append(link)
            self._post(link, {"type": "hello", "num_connections": self.open_connections,
                              "debug_info": {"host": "applink-fake", "build_number": 1,
                                             "approximate_connection_time": 18060},
                              "connection_info": {"app_id": APP_ID}})
            # whatever was never delivered, or went away with a closed connection, comes again
            for env in self._envelopes.values():
                if env.acked:
                    continue
                previous = env.deliveries[-1] if env.deliveries else None
                gone = previous is not None and (self._links[previous - 1].closed
                                                 or self._links[previous - 1].frozen)
                if previous is None or (gone and len(env.deliveries) < self.max_attempts):
                    if previous is not None:
                        env.retry_attempt += 1
                        env.retry_reason = "timeout"
                    self._deliver(link, env)
            self._changed.notify_all()
        try:
            while not link.closed:
                try:
                    raw = ws.recv(timeout=0.1)
                except TimeoutError:
                    self._resend_overdue(link)
                    continue
                self._record(link, raw)
        except (ConnectionClosed, OSError):
            pass
        finally:
            with self._changed:
                link.closed = True
                self._changed.notify_all()

    def _record(self, link: _Link, raw: str | bytes) -> None:
        try:
            data = json.loads(raw)
        except ValueError:
            data = {"_raw": str(raw)}
        with self._changed:
            env_id = data.get("envelope_id") if isinstance(data, dict) else None
            env = self._envelopes.get(env_id) if isinstance(env_id, str) else None
            if env is not None and self._acks_to_lose > 0:
                self._acks_to_lose -= 1
                self._abort(link)
                return
            if env is None:
                self._unknown_acks.append(data if isinstance(data, dict) else {"_raw": data})
            else:
                env.acked = True
                self._acks.append(Ack(envelope_id=env.envelope_id, payload=data.get("payload"),
                                      connection=link.number, at=time.monotonic()))
            self._changed.notify_all()

    def _resend_overdue(self, link: _Link) -> None:
        now = time.monotonic()
        with self._lock:
            if link.frozen:
                return
            for env in self._envelopes.values():
                if (not env.acked and env.deliveries and env.deliveries[-1] == link.number
                        and now - env.sent_at > self.ack_timeout
                        and len(env.deliveries) < self.max_attempts):
                    env.retry_attempt += 1
                    env.retry_reason = "timeout"
                    self._deliver(link, env)

    def _close_number(self, number: int) -> None:
        with self._lock:
            link = self._links[number - 1]
        if not link.closed:
            link.closed = True
            try:
                link.ws.close(1001, "refresh requested")
            except Exception:  # the peer may be gone already
                pass

    def _abort(self, link: _Link) -> None:
        """Close the TCP connection under the WebSocket: no close frame, the peer sees EOF."""
        with self._changed:
            link.closed = True
            self._changed.notify_all()
        try:
            link.ws.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        link.ws.socket.close()


class _Relay:
    """A TCP relay in front of the WebSocket server: the network, which a test can freeze."""

    def __init__(self, upstream_port: int, settings: FakeSocketMode) -> None:
        self._upstream = upstream_port
        self._settings = settings
        self.accepted = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._pipes: list[_Pipe] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True,
                                        name=f"FakeSocketRelay:{self.port}")

    def start(self) -> _Relay:
        """Accept connections in a daemon thread."""
        self._thread.start()
        return self

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self._upstream), timeout=5)
            except OSError:
                return
            pipe = _Pipe(client, upstream,
                         held_until=time.monotonic() + self._settings.open_delay)
            with self._lock:
                self._pipes.append(pipe)
                self.accepted += 1
            threading.Thread(target=pipe.run, daemon=True, name="FakeSocketPipe").start()

    def freeze_all(self) -> None:
        """Stop passing bytes on every connection open now."""
        with self._lock:
            for pipe in self._pipes:
                pipe.frozen = True

    def stop(self) -> None:
        """Close the listener and every connection."""
        self._stopped.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept(); close() alone does not
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            for pipe in self._pipes:
                pipe.close()
        self._thread.join(timeout=5)


class _Pipe:
    def __init__(self, client: socket.socket, upstream: socket.socket, *,
                 held_until: float = 0.0) -> None:
        self.client, self.upstream = client, upstream
        self.held_until = held_until
        self.frozen = False
        self.closed = False

    def run(self) -> None:
        """Copy bytes both ways until either side closes (nothing moves while frozen)."""
        peer = {self.client: self.upstream, self.upstream: self.client}
        with selectors.DefaultSelector() as sel:
            sel.register(self.client, selectors.EVENT_READ)
            sel.register(self.upstream, selectors.EVENT_READ)
            while not self.closed:
                if self.frozen or time.monotonic() < self.held_until:
                    time.sleep(0.05)
                    continue
                for key, _ in sel.select(0.1):
                    try:
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                        if data:
                            peer[key.fileobj].sendall(data)  # type: ignore[index]
                            continue
                    except OSError:
                        pass
                    self.close()
                    return

    def close(self) -> None:
        """Close both sides."""
        self.closed = True
        for s in (self.client, self.upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


class SocketSlack(SlackClient):
    """Slack's side over Socket Mode: the same payloads as SlackClient, sent as envelopes.

    Each call returns the app's Ack (``ack.json()`` is what an HTTP reply body would be), or
    None with ``wait=False``; ``last_envelope_id`` names the envelope.
    """

    def __init__(self, socket_mode: FakeSocketMode, *, ack_timeout: float = 15,
                 response_urls: Callable[[str], str] | None = None) -> None:
        super().__init__("http://127.0.0.1:9", "unused: Socket Mode is not signed",
                         response_urls=response_urls or socket_mode.fake.response_url)
        self.socket_mode = socket_mode
        self.ack_timeout = ack_timeout
        self.wait = True
        self.last_envelope_id = ""

    def post(self, body: bytes, *, content_type: str, headers: Mapping[str, str] | None = None,
             age: int = 0, bad_signature: bool = False, unsigned: bool = False,
             timeout: float | None = None) -> Any:
        """Deliver what SlackClient would POST as the matching envelope; the Ack."""
        self.last_body = body
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        retry = {"retry_attempt": int(headers.get("x-slack-retry-num", 0)),
                 "retry_reason": headers.get("x-slack-retry-reason", "")}
        if content_type.startswith("application/json"):
            kind, payload = "events_api", json.loads(body)
        else:
            fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
            if "payload" in fields:
                kind, payload = "interactive", json.loads(fields["payload"])
            else:
                kind, payload = "slash_commands", fields
        self.last_envelope_id = self.socket_mode.send(kind, payload, **retry)
        if not self.wait:
            return None
        return self.socket_mode.wait_ack(self.last_envelope_id, timeout=timeout or self.ack_timeout)


class SocketBotProcess(BotProcess):
    """`wgbot socket` (or `wgbot run`) against a FakeSlack with a FakeSocketMode, no signing secret.

    Started means connected: start() returns once the bot opened a new Socket Mode connection.
    """

    def __init__(self, socket_mode: FakeSocketMode, *, command: str = "socket",
                 app_token: str = APP_TOKEN, **kwargs: Any) -> None:
        super().__init__(fake=socket_mode.fake, **kwargs)
        self.socket_mode = socket_mode
        self.command = command
        for name in ("SLACK_SIGNING_SECRET", *_PROXY_VARIABLES):
            self.env.pop(name, None)
        self.env["SLACK_APP_TOKEN"] = app_token
        self._socket_client: SocketSlack | None = None
        self._connections_before = 0

    @property
    def client(self) -> SocketSlack:  # type: ignore[override]
        """Slack's side, delivering over the fake Socket Mode server."""
        if self._socket_client is None:
            self._socket_client = SocketSlack(self.socket_mode)
        return self._socket_client

    def _spawn(self) -> None:
        if self._log is not None:
            self._log.close()
        self._log = open(self.log_path, "ab")  # closed in stop()
        self._log.write(f"\n=== wgbot {self.command} ===\n".encode())
        self._log.flush()
        self._connections_before = self.socket_mode.connections
        self.returncode = None
        self._proc = subprocess.Popen([str(self.executable), self.command, *self.args],
                                      cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                      stdout=self._log, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def _wait_healthy(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._main_exited():
                return "exited"
            if self.socket_mode.connected_since(self._connections_before):
                return "ok"
            time.sleep(0.05)
        return "timeout"


class InProcessSocketBot:
    """What `wgbot socket` builds (bot.app.SocketBot), in this process, against a FakeSlack with a
    FakeSocketMode: the same Bolt app, core, Socket Mode handler and scheduler, with no
    interpreter to start. The surface the tests use is SocketBotProcess's: ``client``,
    ``tmp_dir`` (holding ``wgbot.db``), ``start()`` (connected), ``stop()`` (0 once closed).

    The database starts as a copy of ``template`` (a migrated one) when given; the bot checks its
    schema on start, as `wgbot socket` does. ``ping_interval``, ``ping_timeout`` and ``linger``
    replace the handler's defaults (None keeps them).
    """

    def __init__(self, socket_mode: FakeSocketMode, *, config_dir: Path, tmp_dir: Path,
                 clock: Clock, template: Path | None = None, scheduler: bool = True,
                 ping_interval: float | None = None, ping_timeout: float | None = None,
                 linger: float | None = None) -> None:
        self.socket_mode = socket_mode
        self.tmp_dir = Path(tmp_dir)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        database = self.tmp_dir / "wgbot.db"
        if template is not None:
            shutil.copyfile(template, database)
        self.settings = Settings.from_env({
            "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": socket_mode.fake.url, "DATABASE_URL": f"sqlite:///{database}",
            "WGBOT_CONFIG_DIR": str(config_dir)})
        self.clock = clock
        self._scheduler = scheduler
        self._timings = {"ping_interval": ping_interval, "ping_timeout": ping_timeout,
                         "linger": linger}
        self.bot: SocketBot | None = None
        self.returncode: int | None = None
        self._socket_client: SocketSlack | None = None

    @property
    def client(self) -> SocketSlack:
        """Slack's side, delivering over the fake Socket Mode server."""
        if self._socket_client is None:
            self._socket_client = SocketSlack(self.socket_mode)
        return self._socket_client

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self.bot is not None

    def start(self, timeout: float = 20) -> Self:
        """Build and connect; return once the bot opened a new Socket Mode connection."""
        if self.bot is not None:
            return self
        before = self.socket_mode.connections
        self.returncode = None
        self.bot = SocketBot(self.settings, clock=self.clock, scheduler=self._scheduler,
                             **self._timings)
        try:
            self.bot.connect()
            deadline = time.monotonic() + timeout
            while not self.socket_mode.connected_since(before):
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"wgbot socket (in process) did not connect within {timeout}s")
                time.sleep(0.02)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> int:
        """Close as `wgbot socket` does on SIGTERM (the envelopes at work finish and ack); 0."""
        bot, self.bot = self.bot, None
        if bot is not None:
            bot.close()
            self.returncode = 0
        if self.returncode is None:
            raise RuntimeError("the bot was never started")
        return self.returncode

    def close(self) -> None:
        """Stop the bot if it runs."""
        if self.bot is not None:
            self.stop()

    def __enter__(self) -> Self:
        """Start the bot."""
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Stop the bot."""
        self.close()
