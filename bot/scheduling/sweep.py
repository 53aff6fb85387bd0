"""One reminder sweep: plan what fell due, reconcile stale claims, deliver, tell admins of failures.

Runs under the scheduler (or directly in tests and `reminders preview`), always with an injected clock.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config.types import Config
from bot.domain import planning
from bot.domain.planning import Planned
from bot.domain.reply import Reply
from bot.ports import ConfigSource, DeliveryError, Notifier
from bot.replies import notifications
from bot.replies import owner_notices as notice_replies
from bot.services import commitments, digests, events, members, outbox, owner_notices, relevance
from bot.scheduling.pace import PacedNotifier, TokenBucket
from bot.scheduling.senders import DEFAULT_SENDERS, send_concurrently
from bot.store.db import unit_of_work
from bot.store.models import Delivery

log = logging.getLogger("wgbot.reminders")
# A history search starts this long before the attempt, for clocks that disagree a little.
HISTORY_MARGIN = timedelta(minutes=5)
# Deliveries due read at once: a wide window, so one channel with hundreds due does not hide
# the others.
DUE_AT_ONCE = 500


@dataclass
class SweepReport:
    """Counts from one sweep."""

    planned: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    reconciled: int = 0


@dataclass(frozen=True)
class Composed:
    """A delivery turned into a message, or the reason it should not go out."""

    reply: Reply | None
    skip: str | None = None


def compose(session: Session, d: Delivery | Planned, *, config: Config, now: datetime,
            memo: digests.FiguresMemo | None = None) -> Composed:
    """Render a delivery from the current data, or say why it no longer makes sense.

    Digests of one sweep share their figures through `memo` (counted once, not per coordinator).
    """
    reason = relevance.skip_reason(session, d, config=config, now=now)
    if reason is not None:
        return Composed(None, reason)
    kind, recipient, subject = d.kind, d.recipient, d.subject
    tz = members.timezone_of(session, user_id=recipient, default=config.timezone)
    if kind == "countdown":
        due = commitments.open_due_before(session, before=config.session.starts_at)
        counts = commitments.counts_by_rec(session, now=now)
        nobody = [r.id for r in config.knowledge.recommendations
                  if not any(counts.get(r.id, {}).get(k) for k in ("open", "done"))]
        moment = d.moment if isinstance(d, Planned) else d.due_at
        return Composed(notifications.countdown(config=config, now=now, due_before=due,
                                                nobody=nobody,
                                                planned=config.session.starts_at - moment))
    if kind in ("deadline", "overdue"):
        c, _ = relevance.commitment_of(session, subject)
        assert c is not None  # skip_reason checked it
        note = commitments.latest_notes(session, commitment_ids=[c.id]).get(c.id)
        if kind == "deadline":
            moment = d.moment if isinstance(d, Planned) else d.due_at
            return Composed(notifications.deadline(c, config=config, tz=tz, now=now,
                                                   offset=c.due_at - moment, note=note))
        return Composed(notifications.overdue(c, config=config, tz=tz, now=now,
                                              nudge=max(1, c.nudges), note=note))
    if kind == "digest" and subject == planning.SUMMARY_SUBJECT:
        memo = memo or digests.FiguresMemo()
        return Composed(notifications.digest_summary(
            memo.figures(session, config=config, now=now), config=config, tz=config.timezone))
    if kind == "digest":
        title = {"now": "Digest"}.get(subject, "Weekly digest")
        if subject.startswith("session@"):
            title = "Digest before the session"
        memo = memo or digests.FiguresMemo()
        data = digests.gather(session, config=config, coordinator_id=recipient, now=now,
                              memo=memo)
        return Composed(notifications.digest(data, config=config, tz=tz, title=title))
    if kind == owner_notices.KIND:
        items = owner_notices.changes(session, recipient=recipient,
                                      moment=d.moment if isinstance(d, Planned) else d.due_at)
        return Composed(notice_replies.notice(items, kb=config.knowledge, tz=tz, now=now))
    first, _, last = subject.partition(":")[2].partition("-")  # admin_alert
    rows = session.scalars(select(Delivery).where(
        Delivery.id >= int(first or 0), Delivery.id <= int(last or 0),
        Delivery.status == "failed", Delivery.kind != "admin_alert")).all()
    return Composed(notifications.admin_failures(
        [(r.kind, r.recipient, r.reason or "unknown") for r in rows]))


class Sweeper:
    """Plans and delivers notifications; safe to run in several processes at once."""

    def __init__(self, *, config: ConfigSource, sessions: sessionmaker[Session], clock: Clock,
                 notifier: Notifier, holder: str, senders: int = DEFAULT_SENDERS,
                 pace: TokenBucket | None = None) -> None:
        self._config = config
        self._sessions = sessions
        self._clock = clock
        self.holder = holder
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        # Messages wait for the shared pace (scheduler.messages_per_minute); `senders` threads
        # deliver at once, so one slow call or digest never holds the others back.
        self.senders = senders
        self.pace = pace or TokenBucket()
        self._notifier: Notifier = PacedNotifier(notifier, self.pace, stop=self.stopping)
        # Set by the scheduler on SQLite: renews the lease, False once another process holds it.
        self.renew: Callable[[], bool] | None = None
        self._lease_lost = False

    def run_once(self) -> SweepReport:
        """One full sweep at the clock's now (one sweep at a time per process)."""
        with self._lock:
            self._lease_lost = False
            report = SweepReport()
            config = self._config.current()
            now = self._clock.now()
            with unit_of_work(self._sessions) as s:
                report.planned = outbox.plan(s, config=config, now=now).inserted
                for _delivery_id, _reason in outbox.coalesce(
                        s, now=now, tz=config.timezone,
                        goes_out=lambda d: relevance.skip_reason(s, d, config=config, now=now) is None):
                    report.skipped += 1
                events.forget_old(s, now=now)  # Slack stops retrying an event within hours
                # What the rest of the sweep starts from, read here rather than in units of
                # their own: claims of unknown outcome, what is due, failures not yet reported.
                unknown = outbox.to_reconcile(s, now=now)
                due = outbox.ready(s, now=now, limit=DUE_AT_ONCE)
                unreported = outbox.has_unreported_failures(s)
            self._reconcile(unknown, report)
            # A reconciled claim may be due again: then the deliveries due are read afresh.
            self._deliver(config, report, due=None if unknown else due)
            if unreported or report.failed or report.retried:  # a retry may have given up
                self._alert_admins(config, report)
            return report

    def deliver_ids(self, ids: list[int]) -> SweepReport:
        """Deliver these pending deliveries now (digest now), if nobody else has taken them."""
        report = SweepReport()
        config = self._config.current()
        memo = digests.FiguresMemo()
        for delivery_id in ids:
            self._deliver_one(delivery_id, config, report, memo=memo)
        return report

    def _keep_lease(self) -> bool:
        """Renew the scheduler lease during a long sweep; False once it is lost (stop sending)."""
        if self._lease_lost:
            return False
        if self.renew is None or self.renew():
            return True
        self._lease_lost = True
        log.warning("lost the scheduler lease mid-sweep; leaving the rest to its new holder")
        return False

    def _reconcile(self, rows: list[tuple[int, str, str, datetime | None, str | None, int]],
                   report: SweepReport) -> None:
        """Look up every delivery of unknown outcome (`rows`: outbox.to_reconcile, read in the
        planning unit) in Slack's history before it may be re-sent."""
        now = self._clock.now()
        for delivery_id, recipient, key, claimed_at, was_holder, attempts in rows:
            if self.stopping.is_set() or not self._keep_lease():
                return
            with unit_of_work(self._sessions) as s:
                if not outbox.take_for_check(s, delivery_id=delivery_id, holder=self.holder,
                                             was_holder=was_holder, attempts=attempts):
                    continue  # another process is checking it
            attempts += 1
            oldest = ((claimed_at or now) - HISTORY_MARGIN).timestamp()
            try:
                found = self._notifier.find_key(channel=recipient, key=key, oldest_ts=oldest)
            except DeliveryError as e:
                with unit_of_work(self._sessions) as s:
                    if e.permanent:
                        outbox.mark_failed(s, delivery_id=delivery_id, holder=self.holder,
                                           reason=f"could not check Slack history ({e.reason}), "
                                                  f"so it was not re-sent; it may or may not "
                                                  f"have arrived")
                        report.failed += 1
                    else:
                        outbox.mark_unknown(s, delivery_id=delivery_id, holder=self.holder,
                                            reason=f"history check failed: {e.reason}",
                                            attempts=attempts, now=self._clock.now())
                        report.retried += 1
                log.warning("could not check history for delivery %s: %s", delivery_id, e.reason)
                continue
            with unit_of_work(self._sessions) as s:
                if found:
                    outbox.mark_sent(s, delivery_id=delivery_id, holder=self.holder,
                                     channel=found.channel, ts=found.ts, now=now)
                    log.info("delivery %s was already in Slack (ts %s); recorded, not re-sent",
                             delivery_id, found.ts)
                else:
                    outbox.release(s, delivery_id=delivery_id, holder=self.holder, now=now)
                    log.info("delivery %s is not in Slack; sending it again", delivery_id)
            report.reconciled += 1

    def _deliver(self, config: Config, report: SweepReport, *,
                 due: list[tuple[int, str]] | None = None) -> None:
        """Deliver every due delivery with a pool of senders, one message per channel at a time;
        `due`: what is due now, when the caller has just read it."""
        self.pace.set_rate(config.messages_per_minute)
        memo = digests.FiguresMemo()  # the coordinators' digests count the figures once
        first = [due] if due is not None else []

        def fetch() -> list[tuple[int, str]]:
            if first:
                return first.pop()
            with unit_of_work(self._sessions, read_only=True) as s:
                return outbox.ready(s, now=self._clock.now(), limit=DUE_AT_ONCE)

        def send(delivery_id: int) -> SweepReport:
            own = SweepReport()  # one per sender: merged below, in this thread
            try:
                self._deliver_one(delivery_id, config, own, memo=memo)
            except Exception:
                log.exception("delivery %s could not be completed; a claim left behind is "
                              "reconciled later", delivery_id)
            return own

        for own in send_concurrently(fetch=fetch, send=send, senders=self.senders,
                                     stop=self.stopping):
            for f in fields(SweepReport):
                mine, theirs = getattr(report, f.name), getattr(own, f.name)
                if isinstance(mine, list):
                    mine.extend(theirs)
                else:
                    setattr(report, f.name, mine + theirs)

    def _deliver_one(self, delivery_id: int, config: Config, report: SweepReport, *,
                     memo: digests.FiguresMemo | None = None) -> bool:
        if not self._keep_lease():
            return False
        now = self._clock.now()
        with unit_of_work(self._sessions) as s:
            claimed = outbox.claim(s, delivery_id=delivery_id, holder=self.holder, now=now)
            if claimed is None:
                return False
            key, recipient, kind, attempts = (claimed.key, claimed.recipient, claimed.kind,
                                              claimed.attempts)
        try:
            with unit_of_work(self._sessions, read_only=True) as s:
                # what it is and for whom do not change once planned: the claimed row says it
                composed = compose(s, claimed, config=config, now=now, memo=memo)
        except Exception as e:
            log.exception("could not compose delivery %s", delivery_id)
            with unit_of_work(self._sessions) as s:
                outbox.retry_later(s, delivery_id=delivery_id, holder=self.holder,
                                   reason=f"compose: {type(e).__name__}", attempts=attempts, now=now)
            report.retried += 1
            return True
        if composed.reply is None:
            with unit_of_work(self._sessions) as s:
                outbox.mark_skipped(s, delivery_id=delivery_id, holder=self.holder,
                                    reason=composed.skip or "no longer relevant")
            report.skipped += 1
            return True
        try:
            posted = self._notifier.post(channel=recipient, reply=composed.reply,
                                         metadata={"key": key})
        except DeliveryError as e:
            with unit_of_work(self._sessions) as s:
                if e.unknown_outcome:  # it may be in Slack: look there before any re-send
                    outbox.mark_unknown(s, delivery_id=delivery_id, holder=self.holder,
                                        reason=e.reason, attempts=attempts, now=self._clock.now())
                    report.retried += 1
                elif e.permanent:
                    outbox.mark_failed(s, delivery_id=delivery_id, holder=self.holder, reason=e.reason)
                    report.failed += 1
                else:
                    outbox.retry_later(s, delivery_id=delivery_id, holder=self.holder,
                                       reason=e.reason, attempts=attempts, now=self._clock.now())
                    report.retried += 1
            log.warning("delivery %s (%s to %s) failed: %s", delivery_id, kind, recipient, e.reason)
            return True
        with unit_of_work(self._sessions) as s:
            outbox.mark_sent(s, delivery_id=delivery_id, holder=self.holder, channel=posted.channel,
                             ts=posted.ts, now=self._clock.now())
        report.sent += 1
        for attachment in composed.reply.files:
            try:
                self._notifier.upload(user_id=recipient, attachment=attachment)
            except DeliveryError as e:
                log.warning("attachment for delivery %s not uploaded: %s", delivery_id, e.reason)
        return True

    def _alert_admins(self, config: Config, report: SweepReport) -> None:
        now = self._clock.now()
        with unit_of_work(self._sessions) as s:
            failures = outbox.unreported_failures(s)
            if not failures:
                return
            ids = [f.id for f in failures]
            subject = f"failures:{min(ids)}-{max(ids)}"
            outbox.enqueue(s, [Planned("admin_alert", admin.id, subject, now, now)
                               for admin in config.admins], now=now)
            outbox.mark_reported(s, ids=ids, now=now)
        self._deliver(config, report)
