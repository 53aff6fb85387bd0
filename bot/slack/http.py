"""HTTP mode: POST /slack/events for Slack, GET /healthz for probes, safe on the open internet.

The server is asyncio (uvicorn workers under a gunicorn master): a slow client costs a socket and
a timer, never a thread. Every request passes this edge before Bolt sees it:

* headers must arrive within HEADER_TIMEOUT and stay under MAX_HEADER_BYTES, the body within
  BODY_TIMEOUT; a worker holds at most CONNECTION_LIMIT connections;
* a body over MAX_BODY is refused with 413 before it is read (Content-Length), or as soon as a
  chunked body passes the limit;
* the timestamp and signature headers must each appear once, the timestamp be a number, the body
  be UTF-8 and carry a valid v0 signature (slack_sdk's SignatureVerifier), else 400 / 401;
* a signed body that Bolt cannot read (bad JSON or form, deep nesting) gets 400;
* each refusal is one WARNING line that never includes the body; request values are escaped.

Then the sync Bolt `App.dispatch` runs in a thread pool, as Bolt's own adapters do, and its
response goes back as is.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

log = logging.getLogger("wgbot.http")

EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000  # Slack's largest payloads (modal state) stay far below this
MAX_HEADER_BYTES = 32 * 1024
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
CONNECTION_LIMIT = 1000
DISPATCH_THREADS = 16
MAX_TIMESTAMP_DIGITS = 12

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def escaped(value: object, limit: int = 120) -> str:
    """A request-derived value fit for one log line: no raw newlines, bounded length."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = text[:limit] + ("…" if len(text) > limit else "")
    return text.encode("unicode_escape").decode("ascii")


@dataclass(frozen=True)
class Answer:
    """One HTTP response: status, headers, body."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False

    @classmethod
    def text(cls, status: int, text: str, *, close: bool = False) -> Answer:
        """A short plain-text answer."""
        return cls(status, text.encode(), [("content-type", "text/plain; charset=utf-8")], close)

    @classmethod
    def json(cls, status: int, value: object) -> Answer:
        """A JSON answer."""
        return cls(status, json.dumps(value).encode(), [("content-type", "application/json")])


class SlackEdge:
    """Checks a request the way Slack signs it, then hands it to Bolt (synchronous; run in a pool)."""

    def __init__(self, app: App, *, signing_secret: str) -> None:
        self._app = app
        self._verifier = SignatureVerifier(signing_secret)

    def handle(self, *, headers: list[tuple[bytes, bytes]], query: bytes, body: bytes,
               client: str) -> Answer:
        """Answer one POST to /slack/events."""
        timestamps = [v for k, v in headers if k == b"x-slack-request-timestamp"]
        signatures = [v for k, v in headers if k == b"x-slack-signature"]
        if len(timestamps) > 1 or len(signatures) > 1:
            return self._refuse(400, "a Slack header appears more than once", client, len(body))
        if not timestamps or not signatures:
            return self._refuse(401, "no Slack signature", client, len(body))
        ts = timestamps[0]
        if not (ts.isdigit() and len(ts) <= MAX_TIMESTAMP_DIGITS):
            return self._refuse(400, f"timestamp header is not a number ({escaped(ts, 20)})",
                                client, len(body))
        try:
            text = body.decode("utf-8")
            signature = signatures[0].decode("ascii")
        except UnicodeDecodeError:
            return self._refuse(400, "body or signature is not valid UTF-8", client, len(body))
        if not self._verifier.is_valid(body=text, timestamp=ts.decode(), signature=signature):
            return self._refuse(401, "bad or expired signature", client, len(body))
        try:
            request = BoltRequest(body=text, query=query.decode("latin-1"),
                                  headers=_bolt_headers(headers))
            if not isinstance(request.body, dict):
                raise ValueError("not an object")
        except (ValueError, RecursionError, TypeError, AttributeError, KeyError) as e:
            return self._refuse(400, f"signed body cannot be read ({type(e).__name__})", client,
                                len(body))
        response = self._app.dispatch(request)
        out = [(k, v) for k, values in response.headers.items() for v in values
               if k.lower() not in ("content-length", "connection")]
        return Answer(response.status, (response.body or "").encode(), out)

    @staticmethod
    def _refuse(status: int, why: str, client: str, size: int) -> Answer:
        log.warning("refused a Slack request from %s: %s (%s bytes; body not logged)",
                    client, why, size)
        message = {400: "bad request", 401: "invalid signature"}[status]
        return Answer.text(status, message)


def _bolt_headers(headers: list[tuple[bytes, bytes]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in headers:
        out.setdefault(k.decode("latin-1"), []).append(v.decode("latin-1"))
    return out


class BodyTooLarge(Exception):
    """The body passed MAX_BODY."""


class Disconnected(Exception):
    """The client went away mid-request."""


async def read_body(receive: Receive, *, limit: int) -> bytes:
    """The whole body, refusing it as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The declared Content-Length (None when absent); ValueError when unreadable or doubled."""
    values = [v for k, v in headers if k == b"content-length"]
    if not values:
        return None
    if len(values) > 1 or not values[0].isdigit():
        raise ValueError("bad content-length")
    return int(values[0])


def asgi_app(edge: SlackEdge, *, health: Callable[[], tuple[bool, dict[str, Any]]],
             threads: int = DISPATCH_THREADS, max_body: int = MAX_BODY,
             body_timeout: float = BODY_TIMEOUT) -> ASGIApp:
    """The ASGI app: /healthz and /slack/events, everything blocking in thread pools."""
    dispatch_pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wgbot-http")
    health_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="wgbot-health")

    async def respond(send: Send, answer: Answer, *, head: bool = False) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        headers.append((b"content-length", str(len(answer.body)).encode()))
        if answer.close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else answer.body})

    async def events(scope: Scope, receive: Receive, send: Send, client: str) -> None:
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        try:
            declared = content_length(headers)
        except ValueError:
            log.warning("refused a request from %s: unreadable Content-Length", client)
            await respond(send, Answer.text(400, "bad request", close=True))
            return
        if declared is not None and declared > max_body:
            log.warning("refused a request from %s: body of %s bytes is over the %s-byte limit",
                        client, declared, max_body)
            await respond(send, Answer.text(413, "request body too large", close=True))
            return
        try:
            async with asyncio.timeout(body_timeout):
                body = await read_body(receive, limit=max_body)
        except BodyTooLarge:
            log.warning("refused a request from %s: chunked body over the %s-byte limit",
                        client, max_body)
            await respond(send, Answer.text(413, "request body too large", close=True))
            return
        except TimeoutError:
            log.warning("dropped a request from %s: body not received within %ss", client,
                        body_timeout)
            await respond(send, Answer.text(408, "request timeout", close=True))
            return
        except Disconnected:
            return
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(
            dispatch_pool, lambda: edge.handle(headers=headers, query=scope.get("query_string", b""),
                                               body=body, client=client))
        await respond(send, answer)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        peer = scope.get("client")
        client = escaped(f"{peer[0]}:{peer[1]}" if peer else "unknown", 60)
        path, method = scope.get("path", ""), scope.get("method", "")
        try:
            if path == "/healthz" and method in ("GET", "HEAD"):
                loop = asyncio.get_running_loop()
                ok, report = await loop.run_in_executor(health_pool, health)
                await respond(send, Answer.json(200 if ok else 503, report), head=method == "HEAD")
            elif path == EVENTS_PATH and method == "POST":
                await events(scope, receive, send, client)
            elif path == EVENTS_PATH:
                await respond(send, Answer.text(405, "method not allowed"))
            else:
                await respond(send, Answer.text(404, "not found"))
        except Exception:
            log.exception("request from %s to %s failed", client, escaped(path))
            await respond(send, Answer.text(500, "internal error", close=True))

    return app


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with a deadline and a size cap on each request's headers.

    uvicorn times out idle keep-alive connections only; a client that opens a connection and
    sends its headers a byte at a time would be kept forever.
    """

    header_timeout = HEADER_TIMEOUT
    max_header_bytes = MAX_HEADER_BYTES

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the header deadline as soon as the client connects."""
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        super().connection_made(transport)
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the deadline."""
        self._disarm_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        """A new request on this connection: its headers have HEADER_TIMEOUT to arrive."""
        self._header_bytes = 0
        self._arm_header_timer()
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        """Count the request line against the header budget."""
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count each header against the header budget."""
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > self.max_header_bytes:
            # raised inside the parser: uvicorn answers 400 and closes the connection
            raise ValueError("request headers too large")

    def on_headers_complete(self) -> None:
        """Headers are in: the body has its own deadline, in the app."""
        self._disarm_header_timer()
        super().on_headers_complete()


class EdgeWorker(UvicornWorker):
    """A gunicorn worker running uvicorn with the guarded protocol and a connection limit."""

    CONFIG_KWARGS: dict[str, Any] = {  # noqa: RUF012 - uvicorn_worker reads this class attribute
        "loop": "asyncio",
        "http": GuardedHttpProtocol,
        "ws": "none",
        "lifespan": "off",
        "limit_concurrency": CONNECTION_LIMIT,
        "timeout_graceful_shutdown": 5,
        "server_header": False,
        "proxy_headers": False,
    }


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn run from code: uvicorn workers, no control socket, a short graceful shutdown."""

    def __init__(self, *, load: Callable[[], ASGIApp], host: str, port: int, workers: int,
                 on_ready: Callable[[], None] | None = None,
                 on_exit: Callable[[], None] | None = None) -> None:
        self._load = load
        self._options: dict[str, Any] = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": f"{EdgeWorker.__module__}.{EdgeWorker.__qualname__}",
            "timeout": 30,
            "graceful_timeout": 7,
            "keepalive": 5,
            # gunicorn 27 opens a control socket at a fixed path by default; two instances on one
            # machine would collide on it, and we do not use it.
            "control_socket_disable": True,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "wgbot",
        }
        if on_ready:
            self._options["when_ready"] = lambda _server: on_ready()
        if on_exit:
            self._options["on_exit"] = lambda _server: on_exit()
        super().__init__()

    def load_config(self) -> None:
        """Apply our options (only those gunicorn knows)."""
        for key, value in self._options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> ASGIApp:
        """Build the app inside each worker (nothing shared across fork)."""
        return self._load()

