"""Runs the real `wgbot serve` (gunicorn master, uvicorn workers, the clock process) as a
subprocess against a FakeSlack, for end-to-end tests."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import requests

from .client import SlackClient
from .server import FakeSlack

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test"
_PORT_IN_USE = ("Address already in use", "Connection in use", "Errno 98")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wgbot_executable() -> Path:
    """The wgbot console script of the running interpreter's environment."""
    return Path(sys.executable).with_name("wgbot")


class BotProcess:
    """`wgbot serve --host 127.0.0.1 --port N` in its own session, logs captured to a file.

    Without a database_url it runs on a new SQLite file in tmp_dir, which the bot migrates at
    its start; or on a copy of `template` (a migrated database), which it finds current, as on
    any start but the first, so that neither it nor its clock imports or runs Alembic.
    """

    def __init__(self, *, fake: FakeSlack | None = None, slack_api_url: str | None = None,
                 signing_secret: str = DEFAULT_SIGNING_SECRET, bot_token: str = BOT_TOKEN,
                 database_url: str | None = None, config_dir: str | Path | None = None,
                 env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
                 port: int | None = None, tmp_dir: str | Path | None = None,
                 args: Sequence[str] = (), executable: str | Path | None = None,
                 template: Path | None = None) -> None:
        self.fake = fake
        self.signing_secret = signing_secret
        self._own_tmp = tmp_dir is None
        self.tmp_dir = Path(tmp_dir) if tmp_dir is not None else \
            Path(tempfile.mkdtemp(prefix="wgbot-proc-"))
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.tmp_dir / "wgbot.log"
        self.cwd = Path(cwd) if cwd is not None else REPO_ROOT
        self._fixed_port = port
        self.port = port or free_port()
        self.args = list(args)
        self.executable = Path(executable) if executable is not None else wgbot_executable()
        api_url = slack_api_url or (fake.url if fake is not None else None)
        if api_url is None:
            raise ValueError("BotProcess needs a fake or a slack_api_url: never the real Slack")
        if template is not None and database_url is None:
            shutil.copyfile(template, self.tmp_dir / "wgbot.db")
        overrides: dict[str, str] = {
            "SLACK_BOT_TOKEN": bot_token,
            "SLACK_SIGNING_SECRET": signing_secret,
            "SLACK_API_URL": api_url,
            "DATABASE_URL": database_url or f"sqlite:///{self.tmp_dir / 'wgbot.db'}",
            "PYTHONUNBUFFERED": "1",
        }
        if config_dir is not None:
            overrides["WGBOT_CONFIG_DIR"] = str(config_dir)
        self.env: dict[str, str] = {k: v for k, v in os.environ.items()
                                    if k not in ("SLACK_APP_TOKEN", "PORT", "HOST")}
        self.env.update(overrides)
        self.env.update(env or {})
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._client: SlackClient | None = None
        self.returncode: int | None = None

    # ------------------------------------------------------------------ properties

    @property
    def url(self) -> str:
        """The bot's base URL, http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def client(self) -> SlackClient:
        """The SlackClient bound to this bot (one per port; response_urls served by the fake)."""
        if self._client is None or self._client.base_url != self.url:
            if self._client is not None:
                self._client.close()
            self._client = SlackClient(self.url, self.signing_secret,
                                       response_urls=self.fake.response_url if self.fake else None)
        return self._client

    @property
    def pid(self) -> int | None:
        """The process id of the running bot (None when not started)."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        """True while the bot's main process is alive."""
        return self._proc is not None and not self._main_exited()

    def log_text(self) -> str:
        """Everything the bot wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 30) -> Self:
        """Start the bot and wait until GET /healthz answers 200 (raises with the log if not)."""
        if self._proc is not None and self._proc.returncode is None:
            if self.running:
                return self
            self._kill_group()  # exited on its own: reap it (and any leftovers) first
        for attempt in range(3):
            self._spawn()
            outcome = self._wait_healthy(timeout)
            if outcome == "ok":
                return self
            log = self.log_text()
            code = self._kill_group()
            if outcome == "exited" and self._fixed_port is None and attempt < 2 and \
                    any(s in log for s in _PORT_IN_USE):
                self.port = free_port()  # another process took the port meanwhile
                continue
            raise RuntimeError(
                f"wgbot serve did not become healthy within {timeout}s ({outcome}, exit {code})"
                f"\n--- log {self.log_path} ---\n{log[-8000:]}")
        raise AssertionError("unreachable")

    def _spawn(self) -> None:
        if self._log is not None:
            self._log.close()
        self._log = open(self.log_path, "ab")
        self._log.write(f"\n=== wgbot serve on port {self.port} ===\n".encode())
        self._log.flush()
        cmd = [str(self.executable), "serve", "--host", "127.0.0.1", "--port", str(self.port),
               *self.args]
        self.returncode = None
        self._proc = subprocess.Popen(cmd, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                      stdout=self._log, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def _wait_healthy(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._main_exited():
                return "exited"
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return "ok"
            except requests.RequestException:
                pass
            time.sleep(0.1)
        return "timeout"

    # The main process leads its own process group (start_new_session). It is reaped only after
    # the group has been dealt with: until then its PID, which is the group id, cannot be reused,
    # so a signal to the group can never reach an unrelated process.

    def _main_exited(self) -> bool:
        """True when the main process has exited (without reaping it)."""
        if self._proc is None or self._proc.returncode is not None:
            return True
        try:
            return os.waitid(os.P_PID, self._proc.pid,
                             os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def _others_in_group(self) -> list[int]:
        """Live processes of the bot's group other than the main process (from /proc)."""
        if self._proc is None:
            return []
        pgid, found = self._proc.pid, []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == pgid:
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2:].split()
            if len(fields) > 2 and fields[0] != "Z" and int(fields[2]) == pgid:
                found.append(int(entry.name))
        return found

    def _signal_group(self, sig: int) -> None:
        if self._proc is None or self._proc.returncode is not None:
            return  # reaped: the group id may belong to someone else now
        try:
            os.killpg(self._proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap(self) -> int | None:
        """Reap the main process (it has exited or was killed); record and return its code."""
        if self._proc is None:
            return None
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.returncode = self._proc.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.returncode

    def _kill_group(self) -> int | None:
        """SIGKILL the whole process group, then reap the main process."""
        self._signal_group(signal.SIGKILL)
        return self._reap()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Send `sig` to the bot and wait for it to exit; return its exit code.

        On timeout the whole process group is killed and AssertionError is raised. Workers left
        behind by a main process that exited (e.g. after SIGKILL) are killed too.
        """
        proc = self._proc
        if proc is None:
            raise RuntimeError("the bot was never started")
        if proc.returncode is not None:
            return int(proc.returncode)
        if self._client is not None:
            self._client.close()  # idle keep-alive connections would hold up a graceful exit
        if not self._main_exited():
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + timeout
            while not self._main_exited():
                if time.monotonic() >= deadline:
                    self._kill_group()
                    raise AssertionError(
                        f"wgbot did not exit within {timeout}s of signal {sig}"
                        f"\n--- log {self.log_path} ---\n{self.log_text()[-8000:]}")
                time.sleep(0.02)
        grace = time.monotonic() + (5 if sig != signal.SIGKILL else 0.5)
        while self._others_in_group() and time.monotonic() < grace:
            time.sleep(0.05)
        if self._others_in_group():
            self._signal_group(signal.SIGKILL)
        code = self._reap()
        return int(code if code is not None else -signal.SIGKILL)

    def restart(self, timeout: float = 30, sig: int = signal.SIGTERM) -> int:
        """Stop (with `sig`) and start again on the same port and database; the stop's exit code."""
        code = self.stop(sig=sig)
        self._fixed_port = self.port
        self.start(timeout=timeout)
        return code

    def close(self) -> None:
        """Stop the bot if it runs; remove the temporary directory this object created."""
        if self._proc is not None and self._proc.returncode is None:
            try:
                self.stop()
            except AssertionError:
                pass  # stop() killed the group already; close() is cleanup
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._own_tmp:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        """Start the bot."""
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Stop the bot; on failure print its log (pytest shows it with the failure)."""
        if exc_type is not None:
            print(f"--- wgbot log ({self.log_path}) ---\n{self.log_text()[-8000:]}",
                  file=sys.stderr)
        self.close()

    def __repr__(self) -> str:
        """BotProcess(url, pid, running)."""
        return f"BotProcess(url={self.url!r}, pid={self.pid}, running={self.running})"

    def wait_for_log(self, text: str, timeout: float = 10) -> str:
        """Wait until the log contains `text`; return the log."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log_text()
            if text in log:
                return log
            if time.monotonic() >= deadline:
                raise AssertionError(f"{text!r} not in the wgbot log within {timeout}s:\n"
                                     f"{log[-8000:]}")
            time.sleep(0.05)


class ClockBotProcess(BotProcess):
    """`wgbot clock` alone: the reminder scheduler without a server, for scenarios whose subject
    is what the clock sends (serve's master runs the same command as its clock). Started means
    its scheduler runs: the log says so once more than before the start."""

    READY = "wgbot clock running"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.env.pop("SLACK_SIGNING_SECRET", None)  # the clock answers nothing
        self._ready_before = 0

    def _spawn(self) -> None:
        if self._log is not None:
            self._log.close()
        self._log = open(self.log_path, "ab")
        self._log.write(b"\n=== wgbot clock ===\n")
        self._log.flush()
        self._ready_before = self.log_text().count(self.READY)
        self.returncode = None
        self._proc = subprocess.Popen([str(self.executable), "clock", *self.args], cwd=self.cwd,
                                      env=self.env, stdin=subprocess.DEVNULL, stdout=self._log,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_healthy(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._main_exited():
                return "exited"
            if self.log_text().count(self.READY) > self._ready_before:
                return "ok"
            time.sleep(0.05)
        return "timeout"
