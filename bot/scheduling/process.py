"""The scheduler of `wgbot serve`: one `wgbot clock` process beside the web workers.

The gunicorn master forks its workers; a scheduler thread inside the master would be copied into
that fork mid-flight (SQLite and logging locks included), and a scheduler inside each worker would
send every message once per worker. So the master starts exactly one clock process, restarts it if
it dies, and stops it — letting it finish and record the delivery in flight — on shutdown.

The master reaps every child it has with `waitpid(-1)`, the clock included, so the clock's exit
status is not ours to read: `Popen.wait()` may find the child already reaped and report 0. Whether
the clock was asked to stop is therefore decided by our own flag, never by its exit code: any exit
we did not ask for is logged and followed by a new clock.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading

log = logging.getLogger("wgbot.scheduler")

STOP_TIMEOUT = 8.0
RESTART_DELAY = 1.0


class ClockProcess:
    """Starts, watches and stops `python -m bot clock`."""

    def __init__(self, *, argv: list[str] | None = None, restart_delay: float = RESTART_DELAY) -> None:
        self._argv = argv or [sys.executable, "-m", "bot", "clock", "--managed"]
        self._restart_delay = restart_delay
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        """Start the clock and a watcher that restarts it whenever it exits unasked."""
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="wgbot-clock-watch", daemon=True)
        self._watcher.start()

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            try:
                self._proc = subprocess.Popen(self._argv, env=dict(os.environ))
            except OSError:
                log.exception("could not start the reminder scheduler; retrying in %ss",
                              self._restart_delay)
                self._proc = None
                return
            log.info("reminder scheduler started as process %s", self._proc.pid)

    def _watch(self) -> None:
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None:  # the last start failed
                if self._stopping.wait(self._restart_delay):
                    return
                self._spawn()
                continue
            # Returns when the clock exits, or at once if the master has reaped it already.
            proc.wait()
            if self._stopping.is_set():
                return
            # The server's master may have reaped it first: then Python reports 0, not the truth.
            code = proc.returncode
            status = f"with {code}" if code else "(its exit status was taken by the server)"
            log.error("reminder scheduler (process %s) exited %s; restarting in %ss",
                      proc.pid, status, self._restart_delay)
            if self._stopping.wait(self._restart_delay):
                return
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


def stop_when_orphaned(stop: threading.Event, *, interval: float = 1.0) -> threading.Thread:
    """Set `stop` once the process that started us is gone (a `wgbot serve` killed with SIGKILL),
    so a managed clock never outlives its server and keeps sweeping with old code."""
    parent = os.getppid()

    def watch() -> None:
        while not stop.wait(interval):
            if os.getppid() != parent:
                log.error("the server that started this scheduler (process %s) is gone; stopping",
                          parent)
                stop.set()
                return

    thread = threading.Thread(target=watch, name="wgbot-clock-parent", daemon=True)
    thread.start()
    return thread
