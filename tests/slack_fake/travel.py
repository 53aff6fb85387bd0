"""Moving the time of real processes: the offset file their clock reads (WGBOT_CLOCK_OFFSET_FILE).

    travel = Travel(tmp_path / "clock-offset")
    bot = BotProcess(..., env=travel.env)
    travel.to(session_at - timedelta(hours=2) + timedelta(seconds=1))  # the next sweep sees it

Time keeps flowing in the processes (leases, health and retries behave as in production); a
jump is seen by their next sweep. The file is replaced atomically, never caught mid-write.
"""
from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


class Travel:
    """The shared offset of every process given `env`, and the moment it makes now."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0.0
        self._write()

    @property
    def env(self) -> dict[str, str]:
        """What a process needs in its environment to follow this clock."""
        return {"WGBOT_CLOCK_OFFSET_FILE": str(self.path)}

    def now(self) -> datetime:
        """The moment the processes see now."""
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def at(self, real: float) -> datetime:
        """The moment the processes saw at wall time `real` (seconds since the epoch)."""
        return datetime.fromtimestamp(real, UTC) + timedelta(seconds=self.offset)

    def to(self, moment: datetime) -> None:
        """Make `moment` now (time goes on from there)."""
        self.offset = (moment - datetime.now(UTC)).total_seconds()
        self._write()

    def forward(self, delta: timedelta) -> None:
        """Jump ahead by `delta`."""
        self.offset += delta.total_seconds()
        self._write()

    def _write(self) -> None:
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.{time.monotonic_ns()}")
        tmp.write_text(repr(self.offset), encoding="ascii")
        os.replace(tmp, self.path)
