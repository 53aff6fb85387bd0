"""The config in force while the bot runs: polled, reloaded on demand, never replaced by a bad one.

Three rules keep it honest while an admin edits the files:

- **One read.** Each look reads both files once; those bytes are what is judged, hashed (so a
  refused version is known by its own bytes) and saved as the snapshot.
- **Settle first.** A version is judged only once it has stopped changing: its bytes were the
  same on two looks ``settle`` apart, or both files were last modified ``settle`` ago or more.
  A file caught mid-write is not reported as broken.
- **Never parse under the lock requests need.** Requests read the last good config, a plain
  attribute; a check they trigger runs in a thread of its own, and a reload in progress (a
  slow read, a large file) holds only the reload lock, which requests never take.

The admins hear once per distinct set of problems, at most once per ``notice_interval``, and
once more when the files are valid again; the listeners registered with ``on_reload`` do the
telling (``bot.operations``).
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.config.load import REPORT_FILE, ConfigFiles, Loaded, load_files, read_config
from bot.config.problems import ConfigError, Problem
from bot.config.report import affects_reminders, changes
from bot.config.types import Config

log = logging.getLogger("wgbot.config")


@dataclass(frozen=True)
class ReloadResult:
    """What a reload found: applied changes, or the problems that kept the old config."""

    applied: bool
    changed: bool
    changes: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    replan: bool = False
    fingerprint: str = ""
    old: Config | None = None
    new: Config | None = None
    announce: bool = False  # the admins should hear about this one
    fixed: bool = False  # valid again after problems the admins were told about
    episode: str = ""  # the broken spell this belongs to (same in every process reading it)


Listener = Callable[[ReloadResult], None]
ProblemSet = tuple[tuple[str, str, str], ...]


def problem_set(problems: tuple[Problem, ...]) -> ProblemSet:
    """The errors that refused a version, without positions: moving a line is not a new problem."""
    return tuple(sorted({(p.file, p.path, p.message) for p in problems
                         if p.severity == "error"}))


def problem_digest(problems: tuple[Problem, ...]) -> str:
    """A short stable name for a set of problems."""
    return hashlib.sha256(repr(problem_set(problems)).encode()).hexdigest()[:12]


@dataclass
class LiveConfig:
    """Holds the last good config; notices edits at most every poll interval."""

    directory: Path
    clock: Clock
    snapshot_dir: Path | None = None
    settle: timedelta = timedelta(seconds=2)
    notice_interval: timedelta = timedelta(minutes=1)
    _config: Config = field(init=False)
    _fingerprint: str = field(init=False, default="")
    _next_check: datetime = field(init=False)
    _reload_lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _state_lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _checker: threading.Thread | None = field(init=False, default=None)
    _listeners: list[Listener] = field(init=False, default_factory=list)
    _pending: tuple[str, datetime] | None = field(init=False, default=None)
    _told: ProblemSet | None = field(init=False, default=None)
    _told_at: datetime | None = field(init=False, default=None)
    _held: ReloadResult | None = field(init=False, default=None)
    _episode: str = field(init=False, default="")
    last_problems: tuple[Problem, ...] = field(init=False, default=())
    bad_fingerprint: str = field(init=False, default="")

    def __post_init__(self) -> None:
        files = read_config(self.directory)
        try:
            loaded = load_files(files, now=self.clock.now())
        except ConfigError as e:
            # A process (re)started while the files are broken runs on the last good snapshot;
            # without one there is nothing safe to run on, and the error goes to the caller.
            if self.snapshot_dir is None or not self.snapshot_dir.is_dir():
                raise
            try:
                loaded = load_files(read_config(self.snapshot_dir), now=self.clock.now())
            except ConfigError:
                raise e from None
            log.error("config in %s has problems; running on the last good copy:\n%s",
                      self.directory, e)
        else:
            self._save_snapshot(files)
        self._config = loaded.config
        self._fingerprint = loaded.fingerprint
        self._next_check = self.clock.now() + self._poll_interval()
        for w in loaded.warnings:
            log.warning("%s", w)

    def _poll_interval(self) -> timedelta:
        return timedelta(seconds=self._config.poll_seconds)

    def _save_snapshot(self, files: ConfigFiles) -> None:
        """Keep the bytes just loaded, for processes that start while the files are broken."""
        if self.snapshot_dir is None:
            return
        try:
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            contents = list(files.contents())
            report = files.directory / REPORT_FILE  # the report is indexed for search too
            if report.is_file() and not (self.snapshot_dir / REPORT_FILE).is_file():
                contents.append((REPORT_FILE, report.read_bytes()))
            for name, data in contents:
                fd, tmp = tempfile.mkstemp(dir=self.snapshot_dir, prefix=".tmp-")
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, self.snapshot_dir / name)
        except OSError:
            log.warning("could not save a snapshot of the config", exc_info=True)

    def on_reload(self, listener: Listener) -> None:
        """Call listener after every look that changed something or has news for the admins."""
        self._listeners.append(listener)

    # ------------------------------------------------------------------ reading

    def current(self) -> Config:
        """The config in force, at once; a due check for edits runs beside the caller."""
        if self.clock.now() >= self._next_check:
            self._check_in_background()
        return self._config

    def _check_in_background(self) -> None:
        with self._state_lock:
            if self._checker is not None and self._checker.is_alive():
                return
            self._next_check = self.clock.now() + self._poll_interval()
            self._checker = threading.Thread(target=self._background_check, daemon=True,
                                             name="wgbot-config-check")
            self._checker.start()

    def _background_check(self) -> None:
        try:
            self.poll()
        except Exception:
            log.exception("checking the config files failed; the last good config stays")

    def wait_idle(self, timeout: float | None = None) -> None:
        """Wait for a check started by current() to finish (tests, shutdown)."""
        checker = self._checker
        if checker is not None:
            checker.join(timeout)

    def poll(self) -> ReloadResult | None:
        """Look at the files; judge a settled new version. None when there is nothing to say.

        Returns at once when another look or a reload is in progress."""
        if not self._reload_lock.acquire(blocking=False):
            return None
        try:
            now = self.clock.now()
            self._next_check = now + self._poll_interval()
            result = self._consider(read_config(self.directory), now)
            if result is None:
                result = self._due_notice(now)
        finally:
            self._reload_lock.release()
        self._tell(result)
        return result

    def reload(self) -> ReloadResult:
        """Judge the files now (an admin asked: no settling); keep the old config if invalid."""
        with self._reload_lock:
            now = self.clock.now()
            self._next_check = now + self._poll_interval()
            files = read_config(self.directory)
            self._pending = None
            if files.fingerprint == self._fingerprint:
                result = (self._back_to_good() if self.bad_fingerprint else
                          ReloadResult(applied=True, changed=False, fingerprint=self._fingerprint,
                                       old=self._config, new=self._config))
            else:
                result = self._judge(files, now)
        self._tell(result)
        return result

    # ------------------------------------------------------------------ judging

    def _consider(self, files: ConfigFiles, now: datetime) -> ReloadResult | None:
        """Judge files if they are a new version that has settled."""
        fp = files.fingerprint
        if fp == self._fingerprint:
            self._pending = None
            return self._back_to_good() if self.bad_fingerprint else None
        if fp == self.bad_fingerprint:
            self._pending = None
            return None
        seen = self._pending
        settled = files.modified_before(now - self.settle) or (
            seen is not None and seen[0] == fp and now - seen[1] >= self.settle)
        if not settled:
            if seen is None or seen[0] != fp:
                self._pending = (fp, now)
            self._next_check = min(self._next_check, now + self.settle)
            return None
        self._pending = None
        return self._judge(files, now)

    def _judge(self, files: ConfigFiles, now: datetime) -> ReloadResult:
        try:
            loaded = load_files(files, now=now)
        except ConfigError as e:
            return self._refused(e, now)
        return self._apply(loaded, files)

    def _refused(self, e: ConfigError, now: datetime) -> ReloadResult:
        if not self.bad_fingerprint:  # a new broken spell starts
            self._episode = hashlib.sha256(
                f"{self._fingerprint}:{e.fingerprint}".encode()).hexdigest()[:12]
        self.bad_fingerprint = e.fingerprint
        self.last_problems = tuple(e.problems)
        for p in e.problems:
            log.error("config problem: %s", p)
        result = ReloadResult(applied=False, changed=True, problems=tuple(e.problems),
                              fingerprint=e.fingerprint, old=self._config, episode=self._episode)
        key = problem_set(result.problems)
        if key == self._told:
            self._held = None
            return result
        if self._told_at is None or now - self._told_at >= self.notice_interval:
            return self._announce(result, now)
        self._held = result
        return result

    def _announce(self, result: ReloadResult, now: datetime) -> ReloadResult:
        self._told, self._told_at, self._held = problem_set(result.problems), now, None
        return replace(result, announce=True)

    def _due_notice(self, now: datetime) -> ReloadResult | None:
        """Problems held back by the notice interval, once it has passed (if still current)."""
        held = self._held
        if held is None or held.fingerprint != self.bad_fingerprint:
            return None
        if self._told_at is not None and now - self._told_at < self.notice_interval:
            return None
        return replace(self._announce(held, now), changed=False)

    def _end_spell(self) -> tuple[bool, str]:
        """Forget the broken spell; returns whether the admins had been told, and its name."""
        told, episode = self._told is not None, self._episode
        self.bad_fingerprint, self.last_problems = "", ()
        self._told, self._held, self._episode = None, None, ""
        return told, episode

    def _back_to_good(self) -> ReloadResult:
        """The files are back to the version in force."""
        told, episode = self._end_spell()
        log.info("config files are valid again (back to the version in force)")
        return ReloadResult(applied=True, changed=True, fingerprint=self._fingerprint,
                            old=self._config, new=self._config, announce=told, fixed=told,
                            episode=episode)

    def _apply(self, loaded: Loaded, files: ConfigFiles) -> ReloadResult:
        old = self._config
        diff = tuple(changes(old, loaded.config))
        self._config = loaded.config
        self._fingerprint = loaded.fingerprint
        self._next_check = min(self._next_check, self.clock.now() + self._poll_interval())
        self._save_snapshot(files)
        told, episode = self._end_spell()
        if diff:
            log.info("config reloaded: %s", "; ".join(diff))
        for w in loaded.warnings:
            log.warning("%s", w)
        return ReloadResult(applied=True, changed=True, changes=diff,
                            warnings=tuple(loaded.warnings),
                            replan=affects_reminders(old, loaded.config),
                            fingerprint=loaded.fingerprint, old=old, new=loaded.config,
                            announce=told or bool(diff), fixed=told, episode=episode)

    def _tell(self, result: ReloadResult | None) -> None:
        if result is None or not (result.changed or result.announce):
            return
        for listener in list(self._listeners):
            try:
                listener(result)
            except Exception:
                log.exception("config reload listener failed")
