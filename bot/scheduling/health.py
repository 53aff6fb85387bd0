"""Is the reminder scheduler alive? Judged by when a sweep last completed, as /healthz reports it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

STARTUP_ALLOWANCE = 10.0  # seconds for a (re)started clock process to import, connect and sweep


def lease_seconds(poll_seconds: float) -> float:
    """How long a scheduler lease lasts on SQLite: three polls, at least 10 s."""
    return max(10.0, 3 * poll_seconds)


def stale_after(poll_seconds: float) -> float:
    """Sweep age beyond which the scheduler counts as dead.

    A live scheduler completes a sweep every poll. One that was just restarted may wait for the
    dead one's lease to expire, then needs a moment to start: three polls on top of both.
    """
    return lease_seconds(poll_seconds) + 3 * poll_seconds + STARTUP_ALLOWANCE


@dataclass(frozen=True)
class SchedulerHealth:
    """What /healthz says about the scheduler."""

    state: str  # ok | starting | stale | elsewhere
    last_sweep_seconds_ago: float | None
    stale_after_seconds: float

    @property
    def healthy(self) -> bool:
        """False only when this process runs the scheduler and no sweep completed for too long."""
        return self.state != "stale"

    def report(self) -> dict[str, Any]:
        """The JSON-ready form."""
        ago = self.last_sweep_seconds_ago
        return {"state": self.state,
                "last_sweep_seconds_ago": None if ago is None else round(ago, 1),
                "stale_after_seconds": self.stale_after_seconds}


def judge(*, last_sweep: datetime | None, now: datetime, started_at: datetime,
          poll_seconds: float, supervised: bool) -> SchedulerHealth:
    """The scheduler's health: stale when neither a sweep nor our own start is recent enough.

    `supervised` is False for `wgbot serve --no-scheduler`: the clock runs elsewhere, so its age
    is reported but never makes this process unhealthy.
    """
    limit = stale_after(poll_seconds)
    ago = None if last_sweep is None else max(0.0, (now - last_sweep).total_seconds())
    if not supervised:
        return SchedulerHealth("elsewhere", ago, limit)
    since_start = (now - started_at).total_seconds()
    if ago is not None and ago <= limit:
        return SchedulerHealth("ok", ago, limit)
    if since_start <= limit:
        return SchedulerHealth("starting", ago, limit)
    return SchedulerHealth("stale", ago, limit)
