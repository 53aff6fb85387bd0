"""A fake Slack Web API on 127.0.0.1: records every call and answers the way Slack does.

Point the bot's ``SLACK_API_URL`` at ``fake.url``. slack_sdk joins the base URL and the method
name with ``urljoin``, so the base URL ends with ``/api/`` and a call to ``chat.postMessage``
arrives at ``/api/chat.postMessage``. Besides the Web API the server answers the raw upload
URLs it hands out in ``files.getUploadURLExternal`` (``/upload/<file_id>``) and the
``response_url`` hooks it generates (``/response/<name>``).
"""
from __future__ import annotations

import base64
import copy
import itertools
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple, Self
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0WG"
TEAM_NAME = "OSCE WG Migration"
TEAM_DOMAIN = "wg-migration"
APP_ID = "A0WGBOT"
DEFAULT_TZ = "Europe/Vienna"
BOT_SCOPES = ("commands,chat:write,chat:write.public,im:write,im:history,users:read,files:write,"
              "channels:history,groups:history,metadata.message:read")

# Fields Slack documents as JSON that slack_sdk may send as JSON strings inside a form body.
JSON_FIELDS = frozenset({"blocks", "attachments", "metadata", "view", "files"})

Handler = Callable[[dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class Call:
    """One request the fake received: the Web API method (or "upload" / "response_url")."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    token: str | None
    at: float
    status: int = 200
    response: Any = None
    answered_at: float = 0.0  # when the answer was ready (after any delay; before a hang)

    @property
    def ok(self) -> bool:
        """True when the fake answered HTTP 200 with ok=true (Slack accepted the call)."""
        if self.status != 200:
            return False
        return not isinstance(self.response, dict) or bool(self.response.get("ok", True))

    @property
    def error(self) -> str | None:
        """The Slack error code answered, if any."""
        if isinstance(self.response, dict) and not self.response.get("ok", True):
            return str(self.response.get("error"))
        return None


class UploadedFile(NamedTuple):
    """A file that went through the whole upload v2 flow (completeUploadExternal succeeded)."""

    filename: str
    title: str
    content: bytes
    channel_id: str | None
    initial_comment: str | None
    file_id: str
    thread_ts: str | None = None


@dataclass
class UserProfile:
    """What users.info tells about one member."""

    user_id: str
    name: str
    real_name: str
    display_name: str
    tz: str = DEFAULT_TZ
    deleted: bool = False
    is_bot: bool = False
    email: str | None = None


@dataclass
class _Fault:
    kind: str  # "fail" | "ratelimit" | "server_error" | "delay" | "hang_after" | "drop_after"
    method: str | None
    remaining: int | None = None
    error: str = ""
    every: int = 1
    retry_after: int = 1
    status: int = 503
    seconds: float = 0.0
    seen: int = 0

    def matches(self, method: str) -> bool:
        return (self.method is None or self.method == method) and \
            (self.remaining is None or self.remaining > 0)

    def use(self) -> None:
        if self.remaining is not None:
            self.remaining -= 1


class Hang:
    """One call held before its answer is sent (see FakeSlack.hang)."""

    def __init__(self, method: str | None, seconds: float,
                 when: Callable[[dict[str, Any]], bool] | None) -> None:
        self.method = method
        self.seconds = seconds
        self.when = when
        self.used = False
        self.started = threading.Event()  # the call arrived and is being held
        self._gate = threading.Event()

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        return not self.used and (self.method is None or self.method == method) and \
            (self.when is None or bool(self.when(params)))

    def hold(self) -> None:
        self.started.set()
        self._gate.wait(self.seconds)

    @property
    def released(self) -> bool:
        """True once release() was called (or the fake stopped)."""
        return self._gate.is_set()

    def release(self) -> None:
        """Send the held answer now."""
        self._gate.set()


@dataclass
class _Pending:
    file_id: str
    filename: str
    length: int
    content: bytes | None = None


class SlackError(Exception):
    """Raised by a method implementation to answer {"ok": false, "error": ...}."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection instead of answering


def _truthy(value: Any) -> bool:
    """Slack's reading of a boolean parameter ("1", "true", True)."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def dm_channel_for(user_id: str) -> str:
    """The DM channel id the fake assigns to a user id (U123 → D123)."""
    return "D" + user_id[1:]


def _is_user(channel: str) -> bool:
    return channel[:1] in ("U", "W") and channel[1:].isalnum()


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    for key in JSON_FIELDS:
        value = out.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            try:
                out[key] = json.loads(value)
            except ValueError:
                pass
    return out


def _text_len(obj: Any) -> int:
    return len(str(obj.get("text", ""))) if isinstance(obj, dict) else 0


def _check_text(errors: list[str], obj: Any, where: str, *, limit: int, plain: bool = False,
                required: bool = True) -> None:
    if obj is None:
        if required:
            errors.append(f"missing required field: text [json-pointer:{where}]")
        return
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        errors.append(f"must provide an object [json-pointer:{where}]")
        return
    if plain and obj.get("type") != "plain_text":
        errors.append(f"must be a plain_text object [json-pointer:{where}/type]")
    n = _text_len(obj)
    if n < 1:
        errors.append(f"must be more than 0 characters [json-pointer:{where}/text]")
    elif n > limit:
        errors.append(f"must be less than {limit + 1} characters [json-pointer:{where}/text]")


def _check_element(errors: list[str], el: Any, where: str) -> None:
    if not isinstance(el, dict) or not el.get("type"):
        errors.append(f"must provide an object with a type [json-pointer:{where}]")
        return
    if len(str(el.get("action_id", ""))) > 255:
        errors.append(f"must be less than 256 characters [json-pointer:{where}/action_id]")
    if el["type"] == "button":
        _check_text(errors, el.get("text"), f"{where}/text", limit=75, plain=True)
        if len(str(el.get("value", ""))) > 2000:
            errors.append(f"must be less than 2001 characters [json-pointer:{where}/value]")
        if "style" in el and el["style"] not in ("primary", "danger"):
            errors.append(f"must be a valid enum value [json-pointer:{where}/style]")
    elif el["type"] in ("static_select", "multi_static_select", "overflow", "radio_buttons",
                        "checkboxes"):
        options = el.get("options")
        if el["type"] != "overflow" and not options and not el.get("option_groups"):
            errors.append(f"must provide options [json-pointer:{where}/options]")
        if isinstance(options, list) and len(options) > 100:
            errors.append(f"must provide no more than 100 items [json-pointer:{where}/options]")
        for i, opt in enumerate(options or []):
            _check_text(errors, (opt or {}).get("text"), f"{where}/options/{i}/text", limit=75)
            if len(str((opt or {}).get("value", ""))) > 150:
                errors.append(f"must be less than 151 characters "
                              f"[json-pointer:{where}/options/{i}/value]")


# complexity: one check per Block Kit rule the fake enforces
def validate_blocks(blocks: Any, *, max_blocks: int, pointer: str = "/blocks") -> list[str]:  # noqa: C901
    """Slack's Block Kit checks the fake enforces (a pragmatic subset); empty when valid."""
    errors: list[str] = []
    if not isinstance(blocks, list):
        return [f"must provide an array [json-pointer:{pointer}]"]
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    known = {"section", "divider", "image", "actions", "context", "input", "header", "file",
             "rich_text", "video", "markdown", "call", "table"}
    block_ids: set[str] = set()
    for i, b in enumerate(blocks):
        where = f"{pointer}/{i}"
        if not isinstance(b, dict) or b.get("type") not in known:
            errors.append(f"unsupported type [json-pointer:{where}/type]")
            continue
        bid = b.get("block_id")
        if bid is not None:
            if len(str(bid)) > 255:
                errors.append(f"must be less than 256 characters [json-pointer:{where}/block_id]")
            if bid in block_ids:
                errors.append(f"duplicate block_id [json-pointer:{where}/block_id]")
            block_ids.add(str(bid))
        kind = b["type"]
        if kind == "section":
            if b.get("text") is None and not b.get("fields"):
                errors.append(f"must provide either text or fields [json-pointer:{where}]")
            if b.get("text") is not None:
                _check_text(errors, b.get("text"), f"{where}/text", limit=3000)
            fields = b.get("fields") or []
            if len(fields) > 10:
                errors.append(f"must provide no more than 10 items [json-pointer:{where}/fields]")
            for j, f in enumerate(fields):
                _check_text(errors, f, f"{where}/fields/{j}", limit=2000)
            if b.get("accessory") is not None:
                _check_element(errors, b["accessory"], f"{where}/accessory")
        elif kind == "header":
            _check_text(errors, b.get("text"), f"{where}/text", limit=150, plain=True)
        elif kind == "context":
            elements = b.get("elements") or []
            if not 1 <= len(elements) <= 10:
                errors.append(f"must provide 1 to 10 items [json-pointer:{where}/elements]")
            for j, el in enumerate(elements):
                if isinstance(el, dict) and el.get("type") in ("plain_text", "mrkdwn"):
                    _check_text(errors, el, f"{where}/elements/{j}", limit=3000)
        elif kind == "actions":
            elements = b.get("elements") or []
            if not 1 <= len(elements) <= 25:
                errors.append(f"must provide 1 to 25 items [json-pointer:{where}/elements]")
            ids = [el.get("action_id") for el in elements if isinstance(el, dict)
                   and el.get("action_id")]
            if len(ids) != len(set(ids)):
                errors.append(f"duplicate action_id [json-pointer:{where}/elements]")
            for j, el in enumerate(elements):
                _check_element(errors, el, f"{where}/elements/{j}")
        elif kind == "input":
            _check_text(errors, b.get("label"), f"{where}/label", limit=2000, plain=True)
            if b.get("element") is None:
                errors.append(f"missing required field: element [json-pointer:{where}]")
            else:
                _check_element(errors, b["element"], f"{where}/element")
    return errors


def validate_view(view: Any) -> list[str]:
    """Slack's checks on a modal or Home tab view (a pragmatic subset); empty when valid."""
    if not isinstance(view, dict):
        return ["must provide an object [json-pointer:/view]"]
    errors: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        errors.append("must be a valid enum value [json-pointer:/view/type]")
        return errors
    if kind == "modal":
        _check_text(errors, view.get("title"), "/view/title", limit=24, plain=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                _check_text(errors, view.get(key), f"/view/{key}", limit=24, plain=True)
        has_input = any(isinstance(b, dict) and b.get("type") == "input"
                        for b in view.get("blocks") or [])
        if has_input and view.get("submit") is None:
            errors.append("must provide submit when input blocks are present "
                          "[json-pointer:/view/submit]")
    if len(str(view.get("private_metadata") or "")) > 3000:
        errors.append("must be less than 3001 characters [json-pointer:/view/private_metadata]")
    if len(str(view.get("callback_id") or "")) > 255:
        errors.append("must be less than 256 characters [json-pointer:/view/callback_id]")
    errors.extend(validate_blocks(view.get("blocks", []), max_blocks=100,
                                  pointer="/view/blocks"))
    return errors


class _RequestHandler(BaseHTTPRequestHandler):
    """Routes /api/<method>, /upload/<file_id> and /response/<name> to the FakeSlack."""

    server_version = "FakeSlack/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline().strip()
                size = int(size_line.split(b";", 1)[0] or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        fake: FakeSlack = self.server.fake  # type: ignore[attr-defined]
        try:
            body = self._read_body()
            answer = fake._dispatch(self.command, self.path, dict(self.headers.items()), body)
        except Exception as e:
            payload = json.dumps({"ok": False, "error": "fake_internal_error",
                                  "detail": f"{type(e).__name__}: {e}"}).encode()
            answer = _Answer(500, payload)
        if answer.drop:
            self.close_connection = True
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for k, v in answer.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = _handle
    do_POST = _handle
    do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a held answer (timeout) is not an error of the fake."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class FakeSlack:
    """The fake Slack Web API server. Use as a context manager or call start()/stop()."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                 validate: bool = True, clock: Callable[[], float] = time.time) -> None:
        self._host = host
        self._port = port
        self._required_token = token
        self.validate = validate
        self._clock = clock
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._calls: list[Call] = []
        self._faults: list[_Fault] = []
        self._hangs: list[Hang] = []
        self._handlers: dict[str, Handler] = {}
        self._users: dict[str, UserProfile] = {}
        self._missing_users: set[str] = set()
        self._reset_state()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Bind to a free port on 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            return self
        server = _Server((self._host, self._port), _RequestHandler)
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name=f"FakeSlack:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        with self._lock:
            for h in self._hangs:
                h.release()
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

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
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return int(self._server.server_address[1])

    @property
    def base(self) -> str:
        """The server's root URL, e.g. http://127.0.0.1:PORT."""
        return f"http://{self._host}:{self.port}"

    @property
    def url(self) -> str:
        """The Web API base URL for SLACK_API_URL / WebClient(base_url=...), ending with /api/."""
        return f"{self.base}/api/"

    def response_url(self, name: str | None = None) -> str:
        """A response_url served by this fake; POSTs to it are recorded as method "response_url"."""
        name = name or f"hook{next(self._ids)}"
        return f"{self.base}/response/{name}"

    # ------------------------------------------------------------------ configuration

    def set_user(self, user_id: str, *, name: str | None = None, real_name: str | None = None,
                 display_name: str | None = None, tz: str = DEFAULT_TZ, deleted: bool = False,
                 is_bot: bool = False, email: str | None = None) -> UserProfile:
        """Configure what users.info answers for a user."""
        default = self._default_user(user_id)
        profile = UserProfile(
            user_id=user_id, name=name or default.name,
            real_name=real_name or (name.title() if name else default.real_name),
            display_name=display_name if display_name is not None else (name or default.display_name),
            tz=tz, deleted=deleted, is_bot=is_bot, email=email)
        with self._lock:
            self._users[user_id] = profile
            self._missing_users.discard(user_id)
        return profile

    def remove_user(self, user_id: str) -> None:
        """Make Slack not know a user (users.info / conversations.open → user_not_found)."""
        with self._lock:
            self._users.pop(user_id, None)
            self._missing_users.add(user_id)

    def on(self, method: str, handler: Handler) -> None:
        """Answer a method with a custom function of the params (returning the JSON body)."""
        with self._lock:
            self._handlers[method] = handler

    def fail(self, method: str | None, error: str = "channel_not_found",
             times: int | None = None) -> None:
        """Answer {"ok": false, "error": error} (HTTP 200) to a method (None: every method)."""
        with self._lock:
            self._faults.append(_Fault("fail", method, remaining=times, error=error))

    def rate_limit(self, method: str | None = None, every: int = 50, retry_after: int = 1,
                   times: int | None = None) -> None:
        """Answer every Nth call of a method (None: of all calls) with HTTP 429 and Retry-After."""
        with self._lock:
            self._faults.append(_Fault("ratelimit", method, remaining=times, every=max(1, every),
                                       retry_after=retry_after))

    def server_error(self, method: str | None, times: int | None = 1, status: int = 503) -> None:
        """Answer the next `times` calls of a method with an HTTP 5xx."""
        with self._lock:
            self._faults.append(_Fault("server_error", method, remaining=times, status=status))

    def delay(self, method: str | None, seconds: float, times: int | None = None) -> None:
        """Wait `seconds` before answering calls of a method (None: every call)."""
        with self._lock:
            self._faults.append(_Fault("delay", method, remaining=times, seconds=seconds))

    def hang(self, method: str | None, seconds: float,
             when: Callable[[dict[str, Any]], bool] | None = None) -> Hang:
        """Hold the answer to the next matching call for `seconds`, or until `release()`.

        The call takes effect and is recorded at once (a message is posted, as Slack may do
        before a response that never comes in time); only its answer is held back.
        """
        h = Hang(method, seconds, when)
        with self._lock:
            self._hangs.append(h)
        return h

    def hang_after(self, method: str | None, seconds: float, times: int | None = None) -> None:
        """Carry out calls of a method (a post is posted), then wait `seconds` before answering.

        A client whose timeout is shorter sees a timeout for a call that did take effect.
        """
        with self._lock:
            self._faults.append(_Fault("hang_after", method, remaining=times, seconds=seconds))

    def drop_after(self, method: str | None, times: int | None = None) -> None:
        """Carry out calls of a method, then close the connection without answering."""
        with self._lock:
            self._faults.append(_Fault("drop_after", method, remaining=times))

    def clear_faults(self) -> None:
        """Remove every fail / rate_limit / server_error / delay / hang rule (releasing hangs)."""
        with self._lock:
            self._faults.clear()
            for h in self._hangs:
                h.release()
            self._hangs.clear()

    def reset(self) -> None:
        """Forget calls, messages, views, uploads, faults and custom handlers (users stay)."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            for h in self._hangs:
                h.release()
            self._hangs.clear()
            self._handlers.clear()
            self._reset_state()

    def _reset_state(self) -> None:
        with self._lock:
            self._last_ts_us = 0
            self._history: dict[str, list[dict[str, Any]]] = {}
            self._opened_dms: set[str] = set()
            self._views: dict[str, dict[str, Any]] = {}
            self._home: dict[str, str] = {}
            self._pending: dict[str, _Pending] = {}
            self._uploaded: list[UploadedFile] = []

    # ------------------------------------------------------------------ inspection

    def calls(self, method: str | None = None) -> list[Call]:
        """Every recorded call, oldest first (optionally only one method's)."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(self, channel: str | None = None) -> list[Call]:
        """The chat.postMessage calls Slack accepted, optionally to one channel (or user's DM)."""
        wanted = {channel, dm_channel_for(channel)} if channel and _is_user(channel) else {channel}
        out = []
        for c in self.calls("chat.postMessage"):
            if not c.ok:
                continue
            posted_to = {c.params.get("channel"), (c.response or {}).get("channel")}
            if channel is None or wanted & posted_to:
                out.append(c)
        return out

    def responses(self, name: str | None = None) -> list[Call]:
        """The POSTs to response_urls (optionally to one of them, by name)."""
        return [c for c in self.calls("response_url") if name is None or c.token == name]

    def history(self, channel: str) -> list[dict[str, Any]]:
        """Stored messages of a channel (or user's DM), oldest first, with metadata."""
        channel = dm_channel_for(channel) if _is_user(channel) else channel
        with self._lock:
            return copy.deepcopy(self._history.get(channel, []))

    def add_message(self, channel: str, text: str, *, user: str = "U0MEMBER1",
                    blocks: list[dict[str, Any]] | None = None,
                    metadata: dict[str, Any] | None = None, thread_ts: str | None = None
                    ) -> dict[str, Any]:
        """Put a message into a channel's history as if someone had posted it."""
        channel = dm_channel_for(channel) if _is_user(channel) else channel
        with self._lock:
            msg: dict[str, Any] = {"type": "message", "user": user, "text": text,
                                   "ts": self._next_ts(), "team": TEAM_ID}
            if blocks is not None:
                msg["blocks"] = blocks
            if metadata is not None:
                msg["metadata"] = metadata
            if thread_ts:
                msg["thread_ts"] = thread_ts
            self._history.setdefault(channel, []).append(msg)
            return copy.deepcopy(msg)

    def view(self, view_id: str) -> dict[str, Any] | None:
        """A view opened, pushed, updated or published, by id."""
        with self._lock:
            v = self._views.get(view_id)
            return copy.deepcopy(v) if v else None

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The App Home view last published for a user."""
        with self._lock:
            vid = self._home.get(user_id)
            return copy.deepcopy(self._views[vid]) if vid else None

    def uploaded_files(self) -> list[UploadedFile]:
        """Files whose upload v2 flow was completed, oldest first."""
        with self._lock:
            return list(self._uploaded)

    def wait_for(self, method: str, count: int = 1, timeout: float = 10,
                 predicate: Callable[[Call], bool] | None = None) -> list[Call]:
        """Wait until at least `count` matching calls were recorded; return all matching calls."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls(method) if predicate is None or predicate(c)]
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"expected {count} {method} call(s) within {timeout}s, got {len(found)}; "
                    f"calls seen:\n{self.describe()}")
            time.sleep(0.02)

    def assert_no_call(self, method: str, within: float = 0.5,
                       predicate: Callable[[Call], bool] | None = None) -> None:
        """Fail if a matching call arrives (or has arrived) within `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            found = [c for c in self.calls(method) if predicate is None or predicate(c)]
            if found:
                raise AssertionError(f"unexpected {method} call(s): {found!r}")
            if time.monotonic() >= deadline:
                return
            time.sleep(0.02)

    def settle(self, quiet: float = 0.5, timeout: float = 10) -> list[Call]:
        """Wait until no new call has arrived for `quiet` seconds; return all calls."""
        deadline = time.monotonic() + timeout
        seen, since = len(self.calls()), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.02)
            n = len(self.calls())
            if n != seen:
                seen, since = n, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return self.calls()
        raise AssertionError(f"calls kept coming for {timeout}s:\n{self.describe()}")

    def describe(self) -> str:
        """A readable list of the calls seen (for failure messages)."""
        lines = []
        for c in self.calls():
            params = {k: v for k, v in c.params.items() if k not in ("blocks", "view")}
            text = json.dumps(params, default=str, ensure_ascii=False)
            lines.append(f"  {c.method} [{c.status}{' ' + c.error if c.error else ''}] {text[:300]}")
        return "\n".join(lines) or "  (none)"

    # ------------------------------------------------------------------ request handling

    def _dispatch(self, verb: str, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        split = urlsplit(path)
        parts = split.path.strip("/").split("/")
        lower = {k.lower(): v for k, v in headers.items()}
        params: dict[str, Any] = dict(parse_qsl(split.query, keep_blank_values=True))
        if len(parts) == 2 and parts[0] == "upload":
            return self._serve_upload(parts[1], lower, body)
        if len(parts) == 2 and parts[0] == "response":
            try:
                data = json.loads(body.decode("utf-8") or "{}")
            except ValueError:
                data = {"_raw": body.decode("utf-8", "replace")}
            params.update(data if isinstance(data, dict) else {"_body": data})
            return self._serve("response_url", params, lower, parts[1], self._response_url_answer)
        if len(parts) == 2 and parts[0] == "api" and parts[1]:
            params.update(self._parse_body(lower.get("content-type", ""), body))
            auth = lower.get("authorization", "")
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
            token = token or (str(params["token"]) if params.get("token") else None)
            return self._serve(parts[1], params, lower, token, self._api_answer)
        return _Answer(404, f"no such path: {split.path}".encode(), "text/plain; charset=utf-8")

    @staticmethod
    def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        ctype = content_type.split(";")[0].strip().lower()
        if ctype == "multipart/form-data":
            msg = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + body)
            out: dict[str, Any] = {}
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                raw = part.get_payload(decode=True)
                payload = raw if isinstance(raw, bytes) else b""
                if part.get_filename():
                    out[str(name)] = payload
                else:
                    out[str(name)] = payload.decode("utf-8", "replace")
            return out
        text = body.decode("utf-8", "replace")
        if ctype == "application/json" or (ctype == "" and text.lstrip()[:1] == "{"):
            data = json.loads(text)
            return data if isinstance(data, dict) else {"_body": data}
        pairs = parse_qsl(text, keep_blank_values=True)
        out = {}
        for k, v in pairs:
            if k in out:
                out[k] = (out[k] if isinstance(out[k], list) else [out[k]]) + [v]
            else:
                out[k] = v
        return out

    # complexity: one branch per injected fault, in the order Slack would meet them
    def _serve(self, method: str, params: dict[str, Any], headers: dict[str, str],  # noqa: C901
               token: str | None, answer: Callable[[str, dict[str, Any], str | None], _Answer]
               ) -> _Answer:
        at = self._clock()
        params = _decode_json_fields(params)
        seconds = hang = 0.0
        fault_answer: _Answer | None = None
        with self._lock:
            for f in self._faults:
                if f.kind == "delay" and f.matches(method):
                    f.use()
                    seconds += f.seconds
            for f in self._faults:
                if f.kind in ("delay", "hang_after", "drop_after") or not f.matches(method):
                    continue
                if f.kind == "server_error":
                    f.use()
                    error = {500: "fatal_error", 503: "service_unavailable"}.get(
                        f.status, "internal_error")
                    fault_answer = _json_answer({"ok": False, "error": error}, status=f.status)
                    break
                if f.kind == "ratelimit":
                    f.seen += 1
                    if f.seen % f.every == 0:
                        f.use()
                        fault_answer = _json_answer({"ok": False, "error": "ratelimited"},
                                                    status=429,
                                                    headers={"Retry-After": str(f.retry_after)})
                        break
                    continue
                if f.kind == "fail":
                    f.use()
                    fault_answer = _json_answer({"ok": False, "error": f.error})
                    break
        if seconds > 0:
            time.sleep(seconds)
        result = fault_answer or answer(method, params, token)
        with self._lock:
            try:
                response: Any = json.loads(result.body.decode("utf-8"))
            except ValueError:
                response = result.body.decode("utf-8", "replace")
            self._calls.append(Call(method=method, params=params, headers=headers, token=token,
                                    at=at, status=result.status, response=response,
                                    answered_at=self._clock()))
            held = next((h for h in self._hangs if h.matches(method, params)), None)
            if held is not None:
                held.used = True
            if fault_answer is None:
                for f in self._faults:
                    if f.kind in ("hang_after", "drop_after") and f.matches(method):
                        f.use()
                        hang += f.seconds
                        if f.kind == "drop_after":
                            result = _Answer(result.status, b"", drop=True)
        if held is not None:
            held.hold()
        if hang > 0:
            time.sleep(hang)
        return result

    def _response_url_answer(self, method: str, params: dict[str, Any], token: str | None
                             ) -> _Answer:
        return _json_answer({"ok": True})

    def _api_answer(self, method: str, params: dict[str, Any], token: str | None) -> _Answer:
        with self._lock:
            handler = self._handlers.get(method)
        if method == "apps.connections.open" and handler is None:
            return _json_answer(self._apps_connections_open(token))
        try:
            if not token:
                raise SlackError("not_authed")
            if self._required_token is not None and token != self._required_token:
                raise SlackError("invalid_auth")
            if handler is not None:
                data = handler(dict(params)) or {}
                data = {"ok": True, **data}
            else:
                impl = _METHODS.get(method)
                data = {"ok": True, **(impl(self, params) if impl else {})}
        except SlackError as e:
            data = {"ok": False, "error": e.error, **e.extra}
        return _json_answer(data, headers={"X-OAuth-Scopes": BOT_SCOPES})

    def _serve_upload(self, file_id: str, headers: dict[str, str], body: bytes) -> _Answer:
        def answer(method: str, params: dict[str, Any], token: str | None) -> _Answer:
            with self._lock:
                pending = self._pending.get(file_id)
                if pending is None:
                    return _Answer(404, b"file not found", "text/plain; charset=utf-8")
                pending.content = body
            return _Answer(200, f"OK - {len(body)}".encode(), "text/plain; charset=utf-8")

        return self._serve("upload", {"file_id": file_id, "length": len(body)}, headers,
                           None, answer)

    # ------------------------------------------------------------------ Slack state helpers

    def _next_ts(self) -> str:
        with self._lock:
            us = max(int(self._clock() * 1_000_000), self._last_ts_us + 1)
            self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}0{next(self._ids):08d}"

    @staticmethod
    def _default_user(user_id: str) -> UserProfile:
        stem = (user_id[1:].lstrip("0") or user_id).lower()
        return UserProfile(user_id=user_id, name=stem, real_name=stem.title(),
                           display_name=stem.title())

    def _user(self, user_id: str) -> UserProfile:
        if not _is_user(user_id) or user_id in self._missing_users:
            raise SlackError("user_not_found")
        return self._users.get(user_id) or self._default_user(user_id)

    def _resolve_channel(self, channel: Any) -> str:
        if not channel:
            raise SlackError("channel_not_found")
        channel = str(channel)
        if _is_user(channel):
            if channel in self._missing_users:
                raise SlackError("channel_not_found")
            return dm_channel_for(channel)
        return str(channel)

    def _find(self, channel: str, ts: str) -> dict[str, Any]:
        for msg in self._history.get(channel, []):
            if msg.get("ts") == ts:
                return msg
        raise SlackError("message_not_found")

    def _check_message(self, params: dict[str, Any]) -> None:
        text, blocks, attachments = params.get("text"), params.get("blocks"), \
            params.get("attachments")
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        if text and len(str(text)) > 40000:
            raise SlackError("msg_too_long")
        if self.validate and blocks is not None:
            errors = validate_blocks(blocks, max_blocks=50)
            if errors:
                raise SlackError("invalid_blocks", errors=errors,
                                 response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})
        metadata = params.get("metadata")
        if metadata is not None and not (
                isinstance(metadata, dict) and isinstance(metadata.get("event_type"), str)
                and isinstance(metadata.get("event_payload"), dict)):
            raise SlackError("invalid_metadata_format")

    def _bot_message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID,
            "text": str(params.get("text") or ""), "ts": ts, "team": TEAM_ID,
            "bot_profile": {"id": BOT_ID, "app_id": APP_ID, "name": "wgbot", "team_id": TEAM_ID,
                            "deleted": False},
        }
        for key in ("blocks", "attachments", "metadata"):
            if params.get(key) is not None:
                msg[key] = copy.deepcopy(params[key])
        if params.get("thread_ts"):
            msg["thread_ts"] = str(params["thread_ts"])
            if _truthy(params.get("reply_broadcast", False)):
                msg["subtype"] = "thread_broadcast"
        return msg

    def _view_echo(self, view: Any, view_id: str, *, root: str | None = None,
                   previous: str | None = None) -> dict[str, Any]:
        if self.validate:
            errors = validate_view(view)
            if errors:
                raise SlackError("invalid_arguments",
                                 response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})
        view = dict(view) if isinstance(view, dict) else {}
        echo = {
            "id": view_id, "team_id": TEAM_ID, "type": view.get("type", "modal"),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""), "state": {"values": {}},
            "hash": f"{int(self._clock())}.{next(self._ids):08x}",
            "title": view.get("title"), "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"), "submit": view.get("submit"),
            "previous_view_id": previous, "root_view_id": root or view_id, "app_id": APP_ID,
            "external_id": view.get("external_id", ""), "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        with self._lock:
            self._views[view_id] = echo
        return copy.deepcopy(echo)

    # ------------------------------------------------------------------ Web API methods

    def _auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"https://{TEAM_DOMAIN}.slack.com/", "team": TEAM_NAME, "user": "wgbot",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
                "is_enterprise_install": False}

    def _chat_post_message(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            channel = self._resolve_channel(p.get("channel"))
            self._check_message(p)
            ts = self._next_ts()
            msg = self._bot_message(p, ts)
            self._history.setdefault(channel, []).append(msg)
            return {"channel": channel, "ts": ts, "message": copy.deepcopy(msg)}

    def _chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            channel = self._resolve_channel(p.get("channel"))
            ts = str(p.get("ts") or "")
            msg = self._find(channel, ts)
            if p.get("blocks") is not None or p.get("text"):
                self._check_message({**p, "text": p.get("text") or "x"})
            for key in ("text", "blocks", "attachments", "metadata"):
                if p.get(key) is not None:
                    msg[key] = copy.deepcopy(p[key])
            msg["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
            return {"channel": channel, "ts": ts, "text": msg.get("text", ""),
                    "message": copy.deepcopy(msg)}

    def _chat_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            channel = self._resolve_channel(p.get("channel"))
            ts = str(p.get("ts") or "")
            msg = self._find(channel, ts)
            self._history[channel].remove(msg)
            return {"channel": channel, "ts": ts}

    def _chat_post_ephemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            channel = self._resolve_channel(p.get("channel"))
            if not p.get("user"):
                raise SlackError("user_not_in_channel")
            self._user(str(p["user"]))
            self._check_message(p)
            ts = self._next_ts()
            return {"message_ts": ts, "ts": ts, "channel": channel}

    def _conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if p.get("channel"):
                return {"channel": {"id": str(p["channel"])}}
            users = [u.strip() for u in str(p.get("users") or "").split(",") if u.strip()]
            if not users:
                raise SlackError("users_list_not_supplied")
            for u in users:
                self._user(u)
            if len(users) == 1:
                cid = dm_channel_for(users[0])
            else:
                cid = "G" + "".join(sorted(u[1:] for u in users))[:20]
            already = cid in self._opened_dms
            self._opened_dms.add(cid)
            out: dict[str, Any] = {"channel": {"id": cid}}
            if already:
                out.update({"no_op": True, "already_open": True})
            return out

    def _conversations_history(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            channel = str(p.get("channel") or "")
            if not channel or _is_user(channel):
                raise SlackError("channel_not_found")
            inclusive = _truthy(p.get("inclusive", False))
            oldest = float(p.get("oldest") or 0)
            latest = float(p.get("latest") or 0) or float("inf")
            limit = max(1, min(int(p.get("limit") or 100), 999))
            with_meta = _truthy(p.get("include_all_metadata", False))
            msgs = [m for m in self._history.get(channel, [])
                    if "thread_ts" not in m or m["thread_ts"] == m["ts"]
                    or m.get("subtype") == "thread_broadcast"]
            newest_first = sorted(msgs, key=lambda m: float(m["ts"]), reverse=True)
            if p.get("cursor"):
                cursor_ts = base64.b64decode(str(p["cursor"])).decode().split(":", 1)[1]
                newest_first = [m for m in newest_first if float(m["ts"]) <= float(cursor_ts)]

            def inside(m: dict[str, Any]) -> bool:
                t = float(m["ts"])
                if inclusive:
                    return oldest <= t <= latest
                return oldest < t < latest

            selected = [m for m in newest_first if inside(m)]
            page, rest = selected[:limit], selected[limit:]
            out_msgs = []
            for m in page:
                m = copy.deepcopy(m)
                if not with_meta:
                    m.pop("metadata", None)
                out_msgs.append(m)
            out: dict[str, Any] = {"messages": out_msgs, "has_more": bool(rest),
                                   "pin_count": 0, "channel_actions_ts": None,
                                   "channel_actions_count": 0}
            if rest:
                cursor = base64.b64encode(f"next_ts:{rest[0]['ts']}".encode()).decode()
                out["response_metadata"] = {"next_cursor": cursor}
            return out

    def _conversations_replies(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            channel = str(p.get("channel") or "")
            ts = str(p.get("ts") or "")
            parent = self._find(channel, ts)
            replies = [m for m in self._history.get(channel, [])
                       if m.get("thread_ts") == ts and m is not parent]
            with_meta = _truthy(p.get("include_all_metadata", False))
            out = []
            for m in [parent, *replies]:
                m = copy.deepcopy(m)
                if not with_meta:
                    m.pop("metadata", None)
                out.append(m)
            return {"messages": out, "has_more": False}

    def _users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            u = self._user(str(p.get("user") or ""))
        try:
            now = datetime.now(ZoneInfo(u.tz))
            delta = now.utcoffset()
            offset = int(delta.total_seconds()) if delta is not None else 0
            label = now.tzname() or u.tz
        except (ZoneInfoNotFoundError, ValueError):
            offset, label = 0, u.tz
        profile = {"display_name": u.display_name, "display_name_normalized": u.display_name,
                   "real_name": u.real_name, "real_name_normalized": u.real_name,
                   "first_name": u.real_name.split(" ")[0], "team": TEAM_ID,
                   "status_text": "", "status_emoji": ""}
        if u.email:
            profile["email"] = u.email
        return {"user": {"id": u.user_id, "team_id": TEAM_ID, "name": u.name, "deleted": u.deleted,
                         "real_name": u.real_name, "tz": u.tz, "tz_label": label,
                         "tz_offset": offset, "is_bot": u.is_bot, "is_admin": False,
                         "is_app_user": False, "updated": int(self._clock()),
                         "profile": profile}}

    def _views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("trigger_id"):
            raise SlackError("invalid_arguments", response_metadata={
                "messages": ["[ERROR] missing required field: trigger_id"]})
        return {"view": self._view_echo(p.get("view"), self._new_id("V"))}

    def _views_push(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("trigger_id"):
            raise SlackError("invalid_arguments", response_metadata={
                "messages": ["[ERROR] missing required field: trigger_id"]})
        return {"view": self._view_echo(p.get("view"), self._new_id("V"))}

    def _views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            vid = str(p.get("view_id") or "")
            if not vid and p.get("external_id"):
                vid = next((k for k, v in self._views.items()
                            if v.get("external_id") == p["external_id"]), "")
            old = self._views.get(vid)
            if old is None:
                raise SlackError("not_found")
            if p.get("hash") and p["hash"] != old.get("hash"):
                raise SlackError("hash_conflict")
            return {"view": self._view_echo(p.get("view"), vid, root=old.get("root_view_id"),
                                            previous=old.get("previous_view_id"))}

    def _views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            user_id = str(p.get("user_id") or "")
            self._user(user_id)
            view = p.get("view")
            if self.validate and isinstance(view, dict) and view.get("type") != "home":
                raise SlackError("invalid_arguments", response_metadata={
                    "messages": ["[ERROR] must be home [json-pointer:/view/type]"]})
            vid = self._home.get(user_id) or self._new_id("V")
            old = self._views.get(vid)
            if old is not None and p.get("hash") and p["hash"] != old.get("hash"):
                raise SlackError("hash_conflict")
            echo = self._view_echo(view, vid)
            self._home[user_id] = vid
            return {"view": echo}

    def _files_get_upload_url(self, p: dict[str, Any]) -> dict[str, Any]:
        filename = str(p.get("filename") or "")
        try:
            length = int(p.get("length") or 0)
        except ValueError:
            length = 0
        if not filename or length <= 0:
            raise SlackError("invalid_arguments")
        file_id = self._new_id("F")
        with self._lock:
            self._pending[file_id] = _Pending(file_id=file_id, filename=filename, length=length)
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, p: dict[str, Any]) -> dict[str, Any]:
        files = p.get("files")
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments")
        channel_id = p.get("channel_id") or None
        channels = [c for c in str(p.get("channels") or "").split(",") if c]
        with self._lock:
            targets = [str(channel_id)] if channel_id else channels
            for t in targets:
                if _is_user(t):
                    raise SlackError("invalid_channel")
            out = []
            for item in files:
                pending = self._pending.get(str((item or {}).get("id")))
                if pending is None or pending.content is None:
                    raise SlackError("file_not_found")
            for item in files:
                pending = self._pending.pop(str(item["id"]))
                content = pending.content or b""
                title = str(item.get("title") or pending.filename)
                comment = p.get("initial_comment") or None
                thread_ts = p.get("thread_ts") or None
                self._uploaded.append(UploadedFile(
                    filename=pending.filename, title=title, content=content,
                    channel_id=targets[0] if targets else None, initial_comment=comment,
                    file_id=pending.file_id, thread_ts=thread_ts))
                info = {"id": pending.file_id, "created": int(self._clock()),
                        "timestamp": int(self._clock()), "name": pending.filename,
                        "title": title, "mimetype": "text/plain", "filetype": "text",
                        "user": BOT_USER_ID, "size": len(content),
                        "url_private": f"{self.base}/files/{pending.file_id}",
                        "shares": {}, "channels": targets}
                out.append(info)
                for t in targets:
                    msg: dict[str, Any] = {"type": "message", "user": BOT_USER_ID,
                                           "bot_id": BOT_ID, "text": comment or "",
                                           "ts": self._next_ts(), "files": [info],
                                           "upload": True}
                    if thread_ts:
                        msg["thread_ts"] = thread_ts
                    self._history.setdefault(t, []).append(msg)
            return {"files": [{"id": f["id"], "title": f["title"]} for f in out]}

    def _apps_connections_open(self, token: str | None) -> dict[str, Any]:
        """A Socket Mode URL from the attached FakeSocketMode (app-level xapp- tokens only)."""
        socket_mode = getattr(self, "socket_mode", None)
        if socket_mode is None:
            return {"ok": False, "error": "socket_mode_not_enabled" if token else "not_authed"}
        return dict(socket_mode.open_connection(token))


def _json_answer(data: Mapping[str, Any], *, status: int = 200,
                 headers: dict[str, str] | None = None) -> _Answer:
    return _Answer(status, json.dumps(data, ensure_ascii=False).encode("utf-8"),
                   headers=dict(headers or {}))


_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._chat_post_message,
    "chat.update": FakeSlack._chat_update,
    "chat.delete": FakeSlack._chat_delete,
    "chat.postEphemeral": FakeSlack._chat_post_ephemeral,
    "conversations.open": FakeSlack._conversations_open,
    "conversations.history": FakeSlack._conversations_history,
    "conversations.replies": FakeSlack._conversations_replies,
    "users.info": FakeSlack._users_info,
    "views.open": FakeSlack._views_open,
    "views.push": FakeSlack._views_push,
    "views.update": FakeSlack._views_update,
    "views.publish": FakeSlack._views_publish,
    "files.getUploadURLExternal": FakeSlack._files_get_upload_url,
    "files.completeUploadExternal": FakeSlack._files_complete_upload,
}


def method_names() -> Iterable[str]:
    """The Web API methods the fake implements (any other method answers {"ok": true})."""
    return tuple(_METHODS)
