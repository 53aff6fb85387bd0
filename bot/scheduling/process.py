"""The scheduler of `wgbot serve`: one `wgbot clock` process beside the gunicorn workers.

The gunicorn master forks its workers; a scheduler thread inside the master would be copied into
that fork mid-flight (SQLite and logging locks included), and a scheduler inside each worker would
send every message once per worker. So the master starts exactly one clock process, restarts it if
it dies, and stops it — letting it finish and record the delivery in flight — on shutdown.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

log = logging.getLogger("wgbot.scheduler")

STOP_TIMEOUT = 8.0
RESTART_DELAY = 2.0


class ClockProcess:
    """Starts, watches and stops `python -m bot clock`."""

    def __init__(self, *, argv: list[str] | None = None) -> None:
        self._argv = argv or [sys.executable, "-m", "bot", "clock", "--managed"]
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        """Start the clock and a watcher that restarts it if it exits unexpectedly."""
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="wgbot-clock-watch", daemon=True)
        self._watcher.start()

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self._proc = subprocess.Popen(self._argv, env=dict(os.environ))
            log.info("reminder scheduler started as process %s", self._proc.pid)

    def _watch(self) -> None:
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None:
                return
            code = proc.wait()
            if self._stopping.is_set() or code == 0:  # 0: it was asked to stop
                return
            log.error("reminder scheduler exited with %s; restarting in %ss", code, RESTART_DELAY)
            time.sleep(RESTART_DELAY)
            self._spawn()

    def stop(self) -> None:
        """SIGTERM the clock and wait for it to record its delivery in flight."""
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.error("reminder scheduler did not stop in %ss; killing it", STOP_TIMEOUT)
            proc.kill()
            proc.wait()
