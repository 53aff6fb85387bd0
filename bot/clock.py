"""Time as an input: every piece of code that needs "now" is handed a Clock."""
from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, UTC
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current moment as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (tests, previews)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        with self._lock:
            self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._at = self._at + delta


class ShiftedClock:
    """The wall clock moved by an offset read from a file (`WGBOT_CLOCK_OFFSET_FILE`).

    How a test moves the time of a real process: the file holds a number of seconds (it may be
    fractional or negative) that the clock adds to the wall clock, read again whenever the file
    changes. Time keeps flowing, so leases, health and retries behave as they do in production;
    a jump forward is seen by the next sweep. A missing or unreadable file counts as no shift.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = os.fspath(path)
        self._seen: tuple[int, int, int] | None = None
        self._offset = timedelta()
        self._lock = threading.Lock()

    def offset(self) -> timedelta:
        """The shift in force now."""
        try:
            st = os.stat(self._path)
        except OSError:
            return timedelta()
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp != self._seen:
                try:
                    with open(self._path, encoding="ascii") as f:
                        self._offset = timedelta(seconds=float(f.read().strip() or 0))
                except (OSError, ValueError, OverflowError):
                    return self._offset  # caught mid-write: keep the last shift, read it again
                self._seen = stamp
            return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()


def process_clock(offset_file: str | os.PathLike[str] | None) -> Clock:
    """The clock of a running process: the wall clock, shifted when an offset file is given."""
    return ShiftedClock(offset_file) if offset_file else SystemClock()
