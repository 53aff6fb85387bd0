"""The config in force while the bot runs: polled, reloaded on demand, never replaced by a bad one."""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.clock import Clock
from bot.config.load import ConfigError, Problem, config_files, fingerprint, load_config
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


Listener = Callable[[ReloadResult], None]


@dataclass
class LiveConfig:
    """Holds the last good config; notices edits at most every poll interval."""

    directory: Path
    clock: Clock
    snapshot_dir: Path | None = None
    _config: Config = field(init=False)
    _fingerprint: str = field(init=False, default="")
    _checked_at: float = field(init=False, default=0.0)
    _lock: threading.RLock = field(init=False, default_factory=threading.RLock)
    _listeners: list[Listener] = field(init=False, default_factory=list)
    last_problems: tuple[Problem, ...] = field(init=False, default=())
    bad_fingerprint: str = field(init=False, default="")

    def __post_init__(self) -> None:
        try:
            loaded = load_config(self.directory, now=self.clock.now())
        except ConfigError as e:
            # A process (re)started while the files are broken runs on the last good snapshot;
            # without one there is nothing safe to run on, and the error goes to the caller.
            if self.snapshot_dir is None or not self.snapshot_dir.is_dir():
                raise
            try:
                loaded = load_config(self.snapshot_dir, now=self.clock.now())
            except ConfigError:
                raise e from None
            log.error("config in %s has problems; running on the last good copy:\n%s",
                      self.directory, e)
        else:
            self._save_snapshot()
        self._config = loaded.config
        self._fingerprint = loaded.fingerprint
        self._checked_at = time.monotonic()
        for w in loaded.warnings:
            log.warning("%s", w)

    def _save_snapshot(self) -> None:
        """Keep a copy of the files just loaded, for processes that start while they are broken."""
        if self.snapshot_dir is None:
            return
        try:
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            for src in config_files(self.directory):
                fd, tmp = tempfile.mkstemp(dir=self.snapshot_dir, prefix=".tmp-")
                os.close(fd)
                shutil.copyfile(src, tmp)
                os.replace(tmp, self.snapshot_dir / src.name)
        except OSError:
            log.warning("could not save a snapshot of the config", exc_info=True)

    def on_reload(self, listener: Listener) -> None:
        """Call listener after every reload attempt that saw a change (good or bad)."""
        self._listeners.append(listener)

    def current(self) -> Config:
        """The config in force, after a cheap check for edits once per poll interval."""
        if time.monotonic() - self._checked_at >= self._config.poll_seconds:
            self.poll()
        return self._config

    def poll(self) -> ReloadResult | None:
        """Reload if the files changed since the last look; None when nothing changed."""
        with self._lock:
            self._checked_at = time.monotonic()
            try:
                fp = fingerprint(self.directory)
            except OSError as e:
                fp = f"unreadable:{e}"
            if fp in (self._fingerprint, self.bad_fingerprint):
                return None
        return self.reload()

    def reload(self) -> ReloadResult:
        """Load the files now; keep the old config if they are invalid."""
        with self._lock:
            old = self._config
            self._checked_at = time.monotonic()
            try:
                loaded = load_config(self.directory, now=self.clock.now())
            except ConfigError as e:
                try:
                    self.bad_fingerprint = fingerprint(self.directory)
                except OSError:
                    self.bad_fingerprint = ""
                self.last_problems = tuple(e.problems)
                for p in e.problems:
                    log.error("config problem: %s", p)
                result = ReloadResult(applied=False, changed=True, problems=tuple(e.problems),
                                      fingerprint=self.bad_fingerprint, old=old)
            else:
                diff = tuple(changes(old, loaded.config))
                changed = loaded.fingerprint != self._fingerprint
                self._config = loaded.config
                self._fingerprint = loaded.fingerprint
                self.bad_fingerprint = ""
                self._save_snapshot()
                self.last_problems = ()
                if diff:
                    log.info("config reloaded: %s", "; ".join(diff))
                result = ReloadResult(applied=True, changed=changed, changes=diff,
                                      warnings=tuple(loaded.warnings),
                                      replan=affects_reminders(old, loaded.config),
                                      fingerprint=loaded.fingerprint, old=old, new=loaded.config)
        if result.changed:
            for listener in list(self._listeners):
                try:
                    listener(result)
                except Exception:
                    log.exception("config reload listener failed")
        return result


class StaticConfig:
    """A config that never changes (tests, one-shot commands)."""

    def __init__(self, config: Config) -> None:
        self._config = config

    def current(self) -> Config:
        """The config."""
        return self._config
