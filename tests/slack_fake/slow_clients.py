"""Slow clients, as an attacker on the internet would hold them against POST /slack/events.

`body` clients send complete headers announcing a 100,000-byte body, then one byte every 2 s;
`headers` clients send their headers one byte every 2 s. With `reopen`, a connection the server
closes is replaced, so that `n` stay open for as long as the attack lasts. Bounded: `n`
connections at most, 127.0.0.1 only, everything closed on exit.
"""
from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Self

TRICKLE_SECONDS = 2.0
ANNOUNCED_BODY = 100_000
MODES = ("body", "headers")


def _head(port: int) -> bytes:
    ts = str(int(time.time()))
    return (f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {ANNOUNCED_BODY}\r\nX-Slack-Request-Timestamp: {ts}\r\n"
            f"X-Slack-Signature: v0={'0' * 64}\r\n\r\n").encode()


class SlowClients:
    """`n` slow connections to 127.0.0.1:port, trickling until closed (a context manager)."""

    def __init__(self, port: int, n: int, *, mode: str = "body", reopen: bool = False) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.port, self.n, self.mode, self.reopen = port, n, mode, reopen
        self.head = _head(port)
        self.sockets: list[socket.socket] = []
        self.sent: dict[int, int] = {}
        self.reopened = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one thread at a time touches the sockets
        self._thread = threading.Thread(target=self._trickle, name="slow-clients", daemon=True)

    def _open(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        first = len(self.head) if self.mode == "body" else 5
        s.sendall(self.head[:first])
        self.sent[s.fileno()] = first
        return s

    def __enter__(self) -> Self:
        """Open every connection, then start trickling."""
        self.sockets = [self._open() for _ in range(self.n)]
        self._thread.start()
        return self

    def _step(self, s: socket.socket) -> bool:
        """Send the next byte; False when the server has closed the connection."""
        fd = s.fileno()
        if self.mode == "body":
            data = b"x"
        else:
            at = self.sent.get(fd, 0)
            data = self.head[at:at + 1] or b"x"
        try:
            s.sendall(data)
        except OSError:
            return False
        self.sent[fd] = self.sent.get(fd, 0) + 1
        return True

    def _trickle(self) -> None:
        while not self._stop.wait(TRICKLE_SECONDS):
            for i, s in enumerate(list(self.sockets)):
                if self._stop.is_set():
                    return
                with self._lock:
                    if self._step(s) and not (self.reopen and self.closed_by_server(s)):
                        continue
                    if self.reopen:
                        s.close()
                        try:
                            self.sockets[i] = self._open()
                            self.reopened += 1
                        except OSError:
                            pass

    @staticmethod
    def closed_by_server(s: socket.socket) -> bool:
        """True when the server closed this connection (any answer it sent is read and dropped)."""
        s.setblocking(False)
        try:
            while s.recv(65536):
                pass
            return True
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            s.setblocking(True)

    def open_count(self) -> int:
        """How many of the connections the server has not closed."""
        with self._lock:
            return sum(not self.closed_by_server(s) for s in self.sockets)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Stop trickling and close every connection."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        with self._lock:
            for s in self.sockets:
                s.close()


def main(argv: list[str] | None = None) -> int:
    """Hold slow clients against a local server until stdin closes (for bench.ack_latency)."""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m tests.slack_fake.slow_clients")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--clients", type=int, default=200, help="half trickle bodies, half headers")
    p.add_argument("--reopen", action="store_true", help="replace connections the server cuts")
    args = p.parse_args(argv)
    half = args.clients // 2
    with SlowClients(args.port, half, mode="body", reopen=args.reopen) as bodies, \
            SlowClients(args.port, args.clients - half, mode="headers", reopen=args.reopen) as heads:
        print("ready", flush=True)
        sys.stdin.read()  # until the parent closes our stdin
        print(f"reopened {bodies.reopened + heads.reopened} open "
              f"{bodies.open_count() + heads.open_count()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
