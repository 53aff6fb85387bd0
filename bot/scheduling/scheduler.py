"""APScheduler wiring: a few jobs with fixed ids in the memory job store; the database holds the truth.

One scheduler per process, and only processes that ask for one start it (the gunicorn master in
`wgbot serve`, or `wgbot clock`) — never the web workers, so N workers never mean N schedulers.
On SQLite a lease row lets exactly one process sweep at a time; on PostgreSQL several may sweep,
because planning takes a row lock and every delivery is claimed atomically.
"""
from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.scheduling.sweep import Sweeper
from bot.store.db import unit_of_work
from bot.store.models import SchedulerLease

log = logging.getLogger("wgbot.scheduler")

LEASE_NAME = "scheduler"
SWEEP_JOB = "wgbot-sweep"


def holder_id() -> str:
    """This process, as a lease holder."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


class Lease:
    """A row that says which process may sweep until when (used on SQLite)."""

    def __init__(self, *, sessions: sessionmaker[Session], clock: Clock, holder: str,
                 ttl: timedelta) -> None:
        self._sessions = sessions
        self._clock = clock
        self.holder = holder
        self.ttl = ttl
        self._renewed_at: datetime | None = None

    def acquire(self) -> bool:
        """Take or renew the lease; False while another live process holds it."""
        now = self._clock.now()
        try:
            with unit_of_work(self._sessions) as s:
                row = s.scalar(select(SchedulerLease).where(SchedulerLease.name == LEASE_NAME))
                if row is None:
                    s.add(SchedulerLease(name=LEASE_NAME, holder=self.holder,
                                         expires_at=now + self.ttl))
                    taken = True
                elif row.holder == self.holder or row.expires_at <= now:
                    result = s.execute(update(SchedulerLease)
                                       .where(SchedulerLease.name == LEASE_NAME,
                                              SchedulerLease.holder == row.holder,
                                              SchedulerLease.expires_at == row.expires_at)
                                       .values(holder=self.holder, expires_at=now + self.ttl))
                    taken = getattr(result, "rowcount", 0) == 1
                else:
                    taken = False
        except IntegrityError:
            taken = False
        self._renewed_at = now if taken else None
        return taken

    def renew(self) -> bool:
        """Keep the lease during a long sweep (renewed once a third of it has run); False if lost."""
        renewed = self._renewed_at
        if renewed is not None and self._clock.now() - renewed < self.ttl / 3:
            return True
        return self.acquire()

    def release(self) -> None:
        """Give the lease up (on shutdown) so another process can take over at once."""
        with unit_of_work(self._sessions) as s:
            s.execute(delete(SchedulerLease).where(SchedulerLease.name == LEASE_NAME,
                                                   SchedulerLease.holder == self.holder))


class ReminderScheduler:
    """Runs the sweep every poll interval and watches the config files."""

    def __init__(self, *, sweeper: Sweeper, poll_seconds: Callable[[], float],
                 watch_config: Callable[[], object] | None, lease: Lease | None,
                 on_swept: Callable[[], None] | None = None) -> None:
        self._sweeper = sweeper
        self._on_swept = on_swept  # records the completed sweep, read by /healthz
        self._poll_seconds = poll_seconds
        self._watch_config = watch_config
        self._lease = lease
        if lease is not None:  # a sweep longer than the lease renews it between deliveries
            sweeper.renew = lease.renew
        self._interval = max(1.0, float(poll_seconds()))
        self._scheduler = BackgroundScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC")

    def start(self) -> None:
        """Start the jobs; the first sweep runs at once (catching up after downtime)."""
        self._scheduler.add_job(self.tick, "interval", seconds=self._interval, id=SWEEP_JOB,
                                replace_existing=True, next_run_time=datetime.now().astimezone())
        self._scheduler.start()
        log.info("scheduler started (every %ss, holder %s)", self._interval, self._sweeper.holder)

    def tick(self) -> None:
        """One scheduled run: config check, lease, sweep."""
        try:
            if self._watch_config is not None:
                self._watch_config()
            interval = max(1.0, float(self._poll_seconds()))
            if interval != self._interval:
                self._interval = interval
                self._scheduler.reschedule_job(SWEEP_JOB, trigger="interval", seconds=interval)
            if self._lease is not None and not self._lease.acquire():
                return
            report = self._sweeper.run_once()
            if self._on_swept is not None:
                self._on_swept()
            if report.sent or report.skipped or report.failed or report.reconciled:
                log.info("sweep: %s sent, %s skipped, %s failed, %s retried, %s reconciled",
                         report.sent, report.skipped, report.failed, report.retried,
                         report.reconciled)
        except Exception:
            log.exception("reminder sweep failed; the next one will pick up where it left off")

    def stop(self) -> None:
        """Finish the delivery in flight, record it, then stop (SIGTERM path)."""
        self._sweeper.stopping.set()
        self._scheduler.shutdown(wait=True)
        if self._lease is not None:
            try:
                self._lease.release()
            except Exception:
                log.warning("could not release the scheduler lease", exc_info=True)
        log.info("scheduler stopped")
