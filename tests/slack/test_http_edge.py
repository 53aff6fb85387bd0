"""The HTTP edge of the real `wgbot serve` on the open internet: its /healthz, slow clients, big
bodies, malformed and forged requests. Raw sockets on 127.0.0.1 play the attacker; every test is bounded
in connections and time and closes what it opened. One server serves the whole module (each test
also checks that it still answers afterwards), so the server is started once, not per test."""
from __future__ import annotations

import json
import re
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.slack_fake.client import SlackClient, sign
from tests.conftest import REPO
from tests.slack_fake.process import BotProcess
from tests.slack_fake.server import FakeSlack
from tests.slack_fake.slow_clients import SlowClients

SLOW_CLIENTS = 200
EVENTS = "/slack/events"
# The tests share one server (below); tests/conftest.py sends them to one worker together.


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, _migrated_sqlite: Path) -> Iterator[BotProcess]:
    """The real `wgbot serve` on SQLite with its own fake Slack, shared by this module's tests. It
    runs without its clock (`--no-scheduler`): the subject is what the web edge answers."""
    tmp = tmp_path_factory.mktemp("edge")
    shutil.copytree(REPO / "config", tmp / "config")
    with FakeSlack() as fake, BotProcess(fake=fake, config_dir=tmp / "config", tmp_dir=tmp / "proc",
                                         args=["--no-scheduler"], template=_migrated_sqlite) as proc:
        yield proc


def connect(bot: BotProcess) -> socket.socket:
    """A TCP connection to the bot."""
    s = socket.create_connection(("127.0.0.1", bot.port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def raw_request(bot: BotProcess, head: bytes, body: bytes = b"", *, timeout: float = 10) -> bytes:
    """Send one raw HTTP request; everything the server answered until it closed or went quiet."""
    with connect(bot) as s:
        s.settimeout(timeout)
        s.sendall(head + body)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
                if b"\r\n\r\n" in out and _complete(out):
                    break
        except (TimeoutError, ConnectionResetError):
            pass
        return out


def _complete(response: bytes) -> bool:
    head, _, body = response.partition(b"\r\n\r\n")
    match = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
    return match is not None and len(body) >= int(match.group(1))


def status_of(response: bytes) -> int:
    """The status code of a raw HTTP response."""
    return int(response.split(b" ", 2)[1])


def post_head(bot: BotProcess, *, length: int | None, headers: list[tuple[str, str]],
              content_type: str = "application/x-www-form-urlencoded") -> bytes:
    """The request line and headers of a POST to /slack/events."""
    lines = [f"POST {EVENTS} HTTP/1.1", f"Host: 127.0.0.1:{bot.port}",
             f"Content-Type: {content_type}"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def signed(bot: BotProcess, body: bytes, content_type: str = "application/x-www-form-urlencoded",
           extra: list[tuple[str, str]] | None = None) -> bytes:
    """A complete request carrying a valid signature over `body`."""
    ts = str(int(time.time()))
    headers = [("X-Slack-Request-Timestamp", ts),
               ("X-Slack-Signature", sign(bot.signing_secret, ts, body)), *(extra or [])]
    return post_head(bot, length=len(body), headers=headers, content_type=content_type) + body


def recs_short_ok(resp: requests.Response) -> bool:
    """The real reply to /wg recs short."""
    return resp.status_code == 200 and "S6" in json.dumps(resp.json().get("blocks", []))


def test_healthz(bot: BotProcess) -> None:
    """GET /healthz over HTTP answers with the database's state."""
    r = requests.get(bot.url + "/healthz", timeout=5)
    assert r.status_code == 200
    assert r.json()["ok"] is True and r.json()["database"] == "ok"


def test_signed_commands_are_answered_while_200_slow_clients_hold_connections(
        bot: BotProcess) -> None:
    slack = SlackClient(bot.url, bot.signing_secret, timeout=5)  # a stalled answer fails the test
    with SlowClients(bot.port, SLOW_CLIENTS // 2, mode="body") as bodies, \
            SlowClients(bot.port, SLOW_CLIENTS // 2, mode="headers") as heads:
        time.sleep(2.5)  # every slow client has trickled at least once
        for _ in range(5):
            assert recs_short_ok(slack.command("recs short"))
            assert requests.get(bot.url + "/healthz", timeout=5).status_code == 200
        assert bodies.open_count() + heads.open_count() == SLOW_CLIENTS  # they were all held
        # ...but not forever: both kinds are cut after the edge's deadlines (10 s each)
        deadline = time.monotonic() + 20
        while bodies.open_count() + heads.open_count() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert bodies.open_count() == 0 and heads.open_count() == 0
    assert recs_short_ok(slack.command("recs short"))
    slack.close()
    log = bot.log_text()
    assert "body not received within 10.0s" in log
    assert "Traceback" not in log


def test_a_body_over_the_limit_is_refused_before_it_is_read(bot: BotProcess) -> None:
    # 100 MB announced, nothing sent: the answer comes at once, without waiting for the body
    started = time.monotonic()
    resp = raw_request(bot, post_head(bot, length=100_000_000, headers=[]), timeout=5)
    assert status_of(resp) == 413 and time.monotonic() - started < 5
    # chunked: no length announced; refused once 1 MB has passed, not at the end
    head = post_head(bot, length=None, headers=[("Transfer-Encoding", "chunked")])
    chunk = b"a" * 65536
    with connect(bot) as s:
        s.sendall(head)
        sent, answer = 0, b""
        s.settimeout(0.01)
        while sent < 50_000_000 and not answer:
            try:
                s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
                answer = s.recv(4096)
            except (TimeoutError, BlockingIOError):
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        s.settimeout(5)
        try:
            answer += s.recv(4096)
        except OSError:
            pass
    assert status_of(answer) == 413
    assert sent < 5_000_000  # refused long before the sender finished
    # a body at the limit is still read (and refused for its signature, not its size)
    at_limit = b"x" * 1_000_000
    assert status_of(raw_request(bot, post_head(bot, length=len(at_limit), headers=[]),
                                 at_limit)) == 401
    assert bot.client.command("recs short").status_code == 200
    assert "over the 1000000-byte limit" in bot.log_text()


@pytest.mark.parametrize("case", ["letters", "doubled", "huge", "negative"])
def test_a_malformed_timestamp_header_gets_400(bot: BotProcess, case: str) -> None:
    body = b"command=%2Fwg&text=recs"
    ts = str(int(time.time()))
    good = sign(bot.signing_secret, ts, body)
    headers = {
        "letters": [("X-Slack-Request-Timestamp", "abc"), ("X-Slack-Signature", good)],
        "doubled": [("X-Slack-Request-Timestamp", ts), ("X-Slack-Request-Timestamp", ts),
                    ("X-Slack-Signature", good)],
        "huge": [("X-Slack-Request-Timestamp", "9" * 400), ("X-Slack-Signature", good)],
        "negative": [("X-Slack-Request-Timestamp", "-" + ts), ("X-Slack-Signature", good)],
    }[case]
    resp = raw_request(bot, post_head(bot, length=len(body), headers=headers), body)
    assert status_of(resp) == 400
    log = bot.log_text()
    assert "refused a Slack request" in log and "Traceback" not in log


@pytest.mark.parametrize("content_type,body", [
    ("application/json", b'{"type": "event_callback", "event": '),        # cut-off JSON
    ("application/json", b'["not", "an", "object"]'),                       # JSON, not an object
    ("application/json", b"[" * 100_000 + b"]" * 100_000),                  # deep nesting
    ("application/x-www-form-urlencoded", b"payload=%7Bnot+json"),          # bad interactive form
    ("application/x-www-form-urlencoded", b"command=%2Fwg&text=\xff\xfe"),  # invalid UTF-8
])
def test_a_signed_body_that_cannot_be_read_gets_400(bot: BotProcess, content_type: str,
                                                    body: bytes) -> None:
    before = bot.log_text()
    resp = raw_request(bot, signed(bot, body, content_type))
    assert status_of(resp) == 400
    new = bot.log_text()[len(before):]
    assert "Traceback" not in new
    refusals = [line for line in new.splitlines() if "refused a Slack request" in line]
    assert len(refusals) == 1 and "WARNING" in refusals[0]
    assert bot.client.command("recs short").status_code == 200


def test_a_bad_signature_is_one_warning_line_without_the_body(bot: BotProcess) -> None:
    marker = "wgbot-secret-marker"
    forged_line = "\n2026-11-30 05:00:00,000 INFO [1] wgbot: admin U0EVIL granted\n"
    body = ("command=%2Fwg&text=" + marker + forged_line + "x" * 200_000).encode()
    ts = str(int(time.time()))
    headers = [("X-Slack-Request-Timestamp", ts),
               ("X-Slack-Signature", sign("not-the-secret", ts, body))]
    before = bot.log_text()
    assert status_of(raw_request(bot, post_head(bot, length=len(body), headers=headers), body)) == 401
    time.sleep(0.2)
    new = bot.log_text()[len(before):]
    assert marker not in new and "U0EVIL" not in new
    assert len(new) < 1000  # not the 200 kB body
    refusals = [line for line in new.splitlines() if "bad or expired signature" in line]
    assert len(refusals) == 1 and " WARNING " in refusals[0]


def test_no_log_line_carries_a_newline_from_a_request(bot: BotProcess) -> None:
    forged = "2026-11-30 05:00:00,000 INFO [1] wgbot: forged"
    # request-derived values reach the log through the path, headers and body
    raw_request(bot, f"GET /x%0A{forged.replace(' ', '%20')} HTTP/1.1\r\nHost: x\r\n\r\n"
                .encode())
    body = f"command=/wg&text=a\n{forged}\n".encode()
    for ts, signature in (("12\t3 forged", "v0=00"), (str(int(time.time())), "v0=" + "0" * 64)):
        head = post_head(bot, length=len(body), headers=[
            ("X-Slack-Request-Timestamp", ts), ("X-Slack-Signature", signature)])
        raw_request(bot, head, body)
    # a signed command whose text holds a newline and a fake log line (Bolt may log it)
    bot.client.command(f"nonsense\n{forged}")
    time.sleep(0.3)
    for line in bot.log_text().splitlines():
        assert not line.startswith(forged), line


def test_oversized_headers_are_refused_and_the_server_stays_up(bot: BotProcess) -> None:
    head = post_head(bot, length=0, headers=[("X-Padding", "p" * 40_000)])
    assert status_of(raw_request(bot, head)) == 400
    assert bot.client.command("recs short").status_code == 200
