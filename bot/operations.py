"""Admin operations of a running bot: reload, outbox status, effective config, digest now, re-plan."""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, UTC

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config.live import LiveConfig, ReloadResult, problem_digest
from bot.config.report import summary
from bot.config.tokens import redact
from bot.domain.dates import format_moment
from bot.domain.planning import Planned, offset_label
from bot.domain.reply import Header, Mrkdwn, Note, Part, Reply, Section, md, mention, simple
from bot.ports import Deliverer, DeliveryError, Notifier
from bot.replies import notifications
from bot.services import outbox, relevance
from bot.store.db import unit_of_work
from bot.store.models import Delivery

log = logging.getLogger("wgbot.operations")

# Config notices are keyed by the config's fingerprint, not by a moment: one DM per version.
NOTICE_MOMENT = datetime(2016, 3, 4, tzinfo=UTC)


class RunningOperations:
    """What `/wg admin …` does, and what happens when the config changes."""

    def __init__(self, *, config: LiveConfig, sessions: sessionmaker[Session], clock: Clock,
                 notifier: Notifier, holder: str = "web", deliverer: Deliverer | None = None
                 ) -> None:
        self._config = config
        self._sessions = sessions
        self._clock = clock
        self._notifier = notifier
        self._holder = holder  # who claims the admins' config notices
        self._deliverer = deliverer  # None: what is enqueued waits for the next sweep

    # ------------------------------------------------------------------ /wg admin
    def reload(self, *, actor_id: str) -> Reply:
        """Reload the config files now and say what happened."""
        result = self._config.reload()
        if not result.applied:
            lines = "\n".join(f"`{redact(str(p))}`" for p in result.problems[:20])
            return Reply(parts=(Section("⚠️ *The config has problems; I kept the last good one.*"),
                                Section(lines), Note("Fix them and run `/wg admin reload` again.")),
                         text="The config has problems; the last good one stays in force.")
        self.after_reload(result, notify=False)
        valid_again = "the config is valid again" if result.fixed else ""
        if not result.changes:
            return simple(f"✅ Reloaded: {valid_again}." if valid_again
                          else "Reloaded: nothing changed.")
        return simple(redact("✅ Reloaded: " + "; ".join((valid_again, *result.changes)
                                                        if valid_again else result.changes)))

    def status(self) -> Reply:
        """Outbox counts, what failed or was skipped lately, what is coming, config health."""
        config = self._config.current()
        tz = config.timezone
        with unit_of_work(self._sessions, read_only=True) as s:
            counts = outbox.counts(s)
            failed = outbox.recent(s, statuses=("failed",), limit=8)
            skipped = outbox.recent(s, statuses=("skipped",), limit=8)
            pending = outbox.upcoming(s, now=self._clock.now(), limit=8)

            def lines(rows: list[Delivery], what: str) -> str:
                return "\n".join(
                    f"• {r.kind} → {r.recipient} ({format_moment(r.due_at, tz)})"
                    + (f": {r.reason}" if r.reason and what != "pending" else "") for r in rows) \
                    or "none"

            parts: list[Part] = [
                Header("wgbot status"),
                Section("*Deliveries* — " + ", ".join(
                    f"{counts.get(k, 0)} {k}" for k in ("pending", "claimed", "sent", "failed",
                                                        "skipped"))),
                Section(f"*Pending*\n{lines(pending, 'pending')}"),
                Section(f"*Failed (latest)*\n{lines(failed, 'failed')}"),
                Section(f"*Skipped (latest)*\n{lines(skipped, 'skipped')}"),
            ]
        problems = self._config.last_problems
        parts.append(Section("*Config* — " + (
            f"⚠️ the last edit was refused ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}); running on the last good one"
            if problems else "OK")))
        return Reply(parts=tuple(parts), text="wgbot status")

    def effective_config(self) -> Reply:
        """The config in force, in a paragraph."""
        return Reply(parts=(Header("Effective config"),
                            Section(redact(summary(self._config.current())))),
                     text="Effective config")

    def digest_now(self, *, actor_id: str) -> Reply:
        """Send every coordinator their digest now."""
        config = self._config.current()
        now = self._clock.now()
        planned = [Planned("digest", p.id, "now", now, now) for p in config.coordinators]
        if not planned:
            return simple("There are no coordinators in config/settings.yaml to send a digest to.")
        with unit_of_work(self._sessions) as s:
            outbox.enqueue(s, planned, now=now)
            ids = [d.id for d in s.query(Delivery).filter(Delivery.key.in_([p.key for p in planned]))]
        names = Mrkdwn(", ").join(mention(p.id) for p in config.coordinators)
        if self._deliverer is None:
            return simple(md("📋 Digest queued for {}; it goes out with the next sweep.", names))
        report = self._deliverer.deliver_ids(ids)
        tail = f" ({report.failed} failed; see `/wg admin status`)" if report.failed else ""
        return simple(md("📋 Digest sent to {}.{}", names, tail))

    # ------------------------------------------------------------------ changes
    def revalidate_pending(self, commitment_id: int | None = None) -> int:
        """Mark pending deliveries that no longer make sense as skipped; returns how many."""
        with unit_of_work(self._sessions) as s:
            return relevance.revalidate_pending(s, config=self._config.current(),
                                                now=self._clock.now(), commitment_id=commitment_id)

    def after_reload(self, result: ReloadResult, *, notify: bool = True) -> None:
        """React to a reload: re-plan when reminders are affected; tell the admins once."""
        if result.applied and result.replan:
            notes = self._replan(result)
            if notes:
                result = replace(result, changes=(*result.changes, *notes))
        if not notify or not result.announce:
            return
        # LiveConfig decides when the admins hear (one DM per distinct set of problems, rate
        # limited, one when valid again); the outbox keys keep several processes to one DM.
        config = self._config.current()
        if not result.applied:
            reply = notifications.config_problems([redact(str(p)) for p in result.problems])
            kind, subject = "problems", f"{result.episode}:{problem_digest(result.problems)}"
        elif result.fixed:
            reply = _valid_again(result.changes)
            kind, subject = "fixed", f"{result.episode}:{result.fingerprint[:12]}"
        elif result.changes:
            reply = notifications.config_changes([redact(c) for c in result.changes])
            kind, subject = "changes", result.fingerprint
        else:
            return
        self._notify_admins_once((config.admins and [a.id for a in config.admins]) or [],
                                 f"config-{kind}", subject, reply)

    def _replan(self, result: ReloadResult) -> list[str]:
        """Skip what no longer applies, plan what a moved session still owes; say what happened."""
        skipped = self.revalidate_pending()
        planned: list[Planned] = []
        if result.old is not None and result.new is not None:
            with unit_of_work(self._sessions) as s:
                planned = outbox.replan_session(s, old=result.old, new=result.new,
                                                now=self._clock.now())
        notes = []
        if skipped:
            notes.append(f"{skipped} pending notification{'s' if skipped != 1 else ''} skipped "
                         f"(no longer appl{'y' if skipped != 1 else 'ies'})")
        countdowns = sorted((p for p in planned if p.kind == "countdown"), key=lambda p: p.moment)
        if countdowns and result.new is not None:
            label = offset_label(result.new.session.starts_at - countdowns[-1].moment)
            earlier = len(countdowns) - 1
            notes.append(f"the {label} countdown for the new date was already due, so it goes out "
                         f"now" + (f" (instead of {earlier} earlier one{'s' if earlier != 1 else ''})"
                                   if earlier else ""))
        if any(p.kind == "digest" for p in planned):
            notes.append("the digest before the session was already due for the new date, so it "
                         "goes out now")
        return notes

    def _notify_admins_once(self, admins: list[str], kind: str, subject: str, reply: Reply) -> None:
        """DM each admin, at most once per config version even with several processes."""
        now = self._clock.now()
        for admin in admins:
            p = Planned("admin_alert", admin, f"{kind}:{subject[:40]}", NOTICE_MOMENT, now)
            with unit_of_work(self._sessions) as s:
                inserted = outbox.enqueue(s, [p], now=now)
                row = s.query(Delivery).filter(Delivery.key == p.key).one()
                if not inserted:
                    continue
                row.status, row.claimed_by, row.claimed_at = "claimed", self._holder, now
                delivery_id = row.id
            try:
                posted = self._notifier.post(channel=admin, reply=reply, metadata={"key": p.key})
            except DeliveryError as e:
                with unit_of_work(self._sessions) as s:
                    outbox.mark_failed(s, delivery_id=delivery_id, holder=None, reason=e.reason)
                continue
            with unit_of_work(self._sessions) as s:
                outbox.mark_sent(s, delivery_id=delivery_id, holder=None, channel=posted.channel,
                                 ts=posted.ts, now=self._clock.now())


def _valid_again(changes: tuple[str, ...]) -> Reply:
    """DM to admins: the files they were told about are valid again (and what that changed)."""
    text = "✅ The config is valid again; I am running on it."
    if changes:
        text += " Changed: " + redact("; ".join(changes[:20]))
    return Reply(parts=(Section(text[:2900]),), text=text[:300])
