"""HTTP mode: Bolt behind gunicorn. POST /slack/events for Slack, GET /healthz for probes.

The gunicorn master runs the reminder scheduler (when enabled); the workers only answer HTTP,
so adding workers never adds schedulers.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger("wgbot.http")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(slack: SlackRequestHandler, *, healthy: Callable[[], bool]) -> WSGIApp:
    """Route /healthz ourselves and everything else to Bolt."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            ok = healthy()
            body = json.dumps({"ok": ok, "database": "ok" if ok else "unavailable"}).encode()
            start_response("200 OK" if ok else "503 Service Unavailable",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return slack(environ, start_response)

    return app


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn run from code: gthread workers, no control socket, a short graceful shutdown."""

    def __init__(self, *, load: Callable[[], WSGIApp], host: str, port: int, workers: int,
                 threads: int = 8, on_ready: Callable[[], None] | None = None,
                 on_exit: Callable[[], None] | None = None) -> None:
        self._load = load
        self._options: dict[str, Any] = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
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

    def load(self) -> WSGIApp:
        """Build the app inside each worker (nothing shared across fork)."""
        return self._load()
