"""The deliveries outbox: plan notifications once (unique key), claim, record sent / failed / skipped."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from bot.config.types import Config
from bot.domain.dates import format_moment
from bot.domain import planning
from bot.domain.planning import Planned
from bot.services import members
from bot.store.db import dialect_insert
from bot.store.models import Commitment, CommitmentOwner, Delivery, SweepMark

SWEEP = "reminders"
SESSION_MARK = "reminders-session"  # the session date the plan follows (to notice a move)
MAX_ATTEMPTS = 8
CLAIM_LEASE = timedelta(minutes=2)
SESSION_MOVED = "the session date changed"


@dataclass(frozen=True)
class PlanReport:
    """What one planning pass did."""

    window: tuple[datetime, datetime] | None
    planned: int
    inserted: int


def _insert_ignore(session: Session, rows: list[dict[str, object]]) -> int:
    if not rows:
        return 0
    ins = dialect_insert(session, Delivery)
    result = session.execute(ins.values(rows).on_conflict_do_nothing(index_elements=["key"]))
    return int(getattr(result, "rowcount", 0) or 0)


_MARKS = select(SweepMark).where(SweepMark.name.in_((SWEEP, SESSION_MARK)))
_MARKS_LOCKED = _MARKS.with_for_update()  # PostgreSQL: two sweeping processes take turns
_MARK_LOCKED = select(SweepMark).where(SweepMark.name == SWEEP).with_for_update()


def _marks(session: Session, *, now: datetime, start: datetime | None = None
           ) -> tuple[SweepMark, SweepMark | None]:
    """The sweep's mark (made by the first sweep) and the session date's, read together."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    found = {m.name: m for m in session.scalars(_MARKS_LOCKED if postgresql else _MARKS)}
    mark = found.get(SWEEP)
    if mark is None:
        mark = SweepMark(name=SWEEP, swept_until=min(start or now, now))
        session.add(mark)
        session.flush()
        if postgresql:
            mark = session.scalar(_MARK_LOCKED) or mark
    return mark, found.get(SESSION_MARK)


def swept_until(session: Session) -> datetime | None:
    """Where the last sweep's planning stopped (None before the first sweep)."""
    return session.scalar(select(SweepMark.swept_until).where(SweepMark.name == SWEEP))


@functools.cache
def _due_in_windows(windows: int) -> Select[tuple[int, str, datetime]]:
    """Open commitments' owners and deadlines in any of `windows` ranges (lo0, hi0], (lo1, hi1]…:
    one query for every reminder offset."""
    return (select(Commitment.id, CommitmentOwner.member_id, Commitment.due_at)
            .join(CommitmentOwner, CommitmentOwner.commitment_id == Commitment.id)
            .where(Commitment.status == "open",
                   or_(*(and_(Commitment.due_at > bindparam(f"lo{i}"),
                              Commitment.due_at <= bindparam(f"hi{i}")) for i in range(windows)))))


_NUDGES_DUE = select(Commitment).where(Commitment.status == "open",
                                       Commitment.next_nudge_at.is_not(None),
                                       Commitment.next_nudge_at <= bindparam("until"))


def plan(session: Session, *, config: Config, now: datetime,
         first_start: datetime | None = None) -> PlanReport:
    """Create outbox rows for every notification whose moment fell in (last sweep, now].

    The very first sweep of a database looks back to first_start (default: now).
    """
    mark, session_mark = _marks(session, now=now, start=first_start)
    _follow_session(session, session_mark, config=config, now=now)
    after, until = mark.swept_until, now
    if until <= after:
        return PlanReport(None, 0, 0)
    planned: list[Planned] = list(planning.countdowns(config, after=after, until=until))
    reminders: list[tuple[int, str, datetime, timedelta]] = []
    windows = [planning.deadline_window(offset, after=after, until=until)
               for offset in config.reminders.deadline]
    if windows:  # one reminder for each owner of a shared commitment, per offset it falls in
        rows = session.execute(_due_in_windows(len(windows)), {
            name: moment for i, (lo, hi) in enumerate(windows)
            for name, moment in ((f"lo{i}", lo), (f"hi{i}", hi))}).all()
        for offset, (lo, hi) in zip(config.reminders.deadline, windows, strict=True):
            reminders.extend((cid, owner, due, offset) for cid, owner, due in rows if lo < due <= hi)
    nudges = list(session.scalars(_NUDGES_DUE, {"until": until}).unique())
    owners = {r[1] for r in reminders} | {o for c in nudges for o in c.owner_ids} | \
        {p.id for p in config.coordinators}
    tzs = members.timezones(session, owners, config.timezone)
    quiet = config.quiet_hours
    for cid, owner, due, offset in reminders:
        moment = due - offset
        planned.append(Planned("deadline", owner, planning.commitment_subject(cid, due), moment,
                               planning.quiet_shift(moment, tzs[owner], quiet)))
    for c in nudges:
        nudge_at = c.next_nudge_at
        if nudge_at is None:  # filtered out by the query; keeps the type checker informed
            continue
        if c.nudges < config.reminders.overdue_max:
            planned.extend(Planned("overdue", owner, planning.commitment_subject(c.id, c.due_at),
                                   nudge_at, planning.quiet_shift(nudge_at, tzs[owner], quiet))
                           for owner in c.owner_ids)
            c.nudges += 1
        # The next nudge is the next working day still ahead; missed ones are not sent in a burst.
        k, nxt = c.nudges + 1, None
        while k <= config.reminders.overdue_max:
            candidate = planning.nth_working_day_after(c.due_at, k, config.timezone)
            if candidate > until:
                nxt = candidate
                break
            k += 1
        c.nudges = max(c.nudges, k - 1) if nxt is not None else c.nudges
        c.next_nudge_at = nxt
    planned.extend(planning.digests(config, after=after, until=until, tz_of=tzs))
    inserted = _insert_ignore(session, [_row(p, now) for p in planned])
    mark.swept_until = until
    session.flush()
    return PlanReport((after, until), len(planned), inserted)


def _follow_session(session: Session, row: SweepMark | None, *, config: Config,
                    now: datetime) -> None:
    """Notice a session moved while no process watched the config (edited while the bot was down).

    `row` is the session date's mark as read with the sweep's (None before the first sweep)."""
    starts_at = config.session.starts_at
    if row is None:
        session.add(SweepMark(name=SESSION_MARK, swept_until=starts_at))
    elif row.swept_until != starts_at:
        old = replace(config, session=replace(config.session, starts_at=row.swept_until))
        replan_session(session, old=old, new=config, now=now)


def replan_session(session: Session, *, old: Config, new: Config, now: datetime) -> list[Planned]:
    """After the session moved: plan what the old date still owed but the new one already passed.

    Planning only looks at moments after the last sweep. Moving the session earlier can put a
    countdown (or the digest before the session) whose moment was still ahead into the window
    already swept; it is planned here, due now, so that it is not lost. Several of them coalesce
    to the newest when they are sent. Moments sent for the old date are not sent again, and
    nothing is planned once the new session has started. Returns what was planned.
    """
    old_start, new_start = old.session.starts_at, new.session.starts_at
    seen = session.scalar(select(SweepMark).where(SweepMark.name == SESSION_MARK))
    if seen is None:
        session.add(SweepMark(name=SESSION_MARK, swept_until=new_start))
    else:
        seen.swept_until = new_start  # planned for this date from now on
    mark = session.scalar(select(SweepMark).where(SweepMark.name == SWEEP))
    if old_start == new_start or new_start <= now or mark is None:
        return []
    swept = mark.swept_until

    def owed(kind: str, recipient: str, moment: datetime) -> bool:
        if moment > swept:  # not yet planned for the old date
            return True
        key = Planned(kind, recipient, planning.session_subject(old_start), moment, moment).key
        return session.scalar(select(Delivery.id).where(  # planned, but not sent for the old date
            Delivery.key == key,
            (Delivery.status == "pending") | ((Delivery.status == "skipped") &
                                              (Delivery.reason == SESSION_MOVED)))) is not None

    subject = planning.session_subject(new_start)
    planned: list[Planned] = []
    channel = new.channels.working_group
    if channel:
        for offset in new.reminders.session:
            moment = new_start - offset
            if moment <= swept and owed("countdown", old.channels.working_group or channel,
                                        old_start - offset):
                planned.append(Planned("countdown", channel, subject, moment, now))
    pre = new_start - new.digest.before_session
    if pre <= swept:
        tzs = members.timezones(session, [p.id for p in new.coordinators], new.timezone)
        for person in new.coordinators:
            if owed("digest", person.id, old_start - old.digest.before_session):
                planned.append(Planned("digest", person.id, subject, pre,
                                       planning.quiet_shift(now, tzs[person.id], new.quiet_hours)))
    _insert_ignore(session, [_row(p, now) for p in planned])
    return planned


def _row(p: Planned, now: datetime) -> dict[str, object]:
    return {"key": p.key, "kind": p.kind, "recipient": p.recipient, "subject": p.subject,
            "due_at": p.moment, "send_after": p.send_after, "status": "pending", "attempts": 0,
            "created_at": now}


def enqueue(session: Session, planned: list[Planned], *, now: datetime) -> int:
    """Add notifications outside the sweep (admin alerts, digest now); duplicates are ignored."""
    return _insert_ignore(session, [_row(p, now) for p in planned])


def _describe(d: Delivery, tz: ZoneInfo) -> str:
    """'the 1-day countdown', 'the 2-hour reminder', 'the digest of Mon 1 Mar 2027, 09:00 …'."""
    if d.kind == "countdown":
        starts = planning.unstamp(d.subject.partition("@")[2])
        return f"the {planning.offset_label(starts - d.due_at)} countdown"
    if d.kind == "deadline":
        parsed = planning.parse_commitment_subject(d.subject)
        return f"the {planning.offset_label(parsed[1] - d.due_at)} reminder" if parsed else "a newer reminder"
    if d.kind == "digest" and d.subject.startswith("session@"):
        return "the digest before the session"
    what = {"digest": "digest", "overdue": "overdue nudge"}.get(d.kind, d.kind)
    return f"the {what} of {format_moment(d.due_at, tz)}"


_DUE_TOGETHER = select(Delivery).where(
    Delivery.status == "pending", Delivery.send_after <= bindparam("now"),
    Delivery.kind.in_(("countdown", "deadline", "overdue", "digest")))


def coalesce(session: Session, *, now: datetime, tz: ZoneInfo,
             goes_out: Callable[[Delivery], bool] = lambda d: True) -> list[tuple[int, str]]:
    """Of the notifications due together of one kind, recipient and subject, keep only the newest.

    After downtime several countdowns, digests or reminders may be due at once; only the newest
    of each group goes out (the newest countdown, the newest digest per coordinator, the nearest
    reminder per commitment, one overdue nudge per commitment); the others are skipped, with the
    notification that superseded them as the reason. The newest is the newest that still goes
    out (goes_out); when none does, each is left to be skipped with its own reason.
    Returns (id, reason) of those skipped.
    """
    rows = session.scalars(_DUE_TOGETHER, {"now": now}).all()
    groups: dict[tuple[str, str, str], list[Delivery]] = {}
    for d in rows:
        if d.kind == "digest" and d.subject == "now":
            continue  # asked for by an admin: never merged away
        subject = "" if d.kind == "digest" else d.subject  # one digest per coordinator
        groups.setdefault((d.kind, d.recipient, subject), []).append(d)
    out: list[tuple[int, str]] = []
    for group in groups.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda d: (d.due_at, d.id))
        keep = next((d for d in reversed(group) if goes_out(d)), None)
        if keep is None:
            continue
        reason = f"superseded by {_describe(keep, tz)}"
        for d in group:
            if d is keep:
                continue
            result = session.execute(update(Delivery)
                                     .where(Delivery.id == d.id, Delivery.status == "pending")
                                     .values(status="skipped", reason=reason))
            if getattr(result, "rowcount", 0) == 1:
                out.append((d.id, reason))
    return out


_READY = (select(Delivery.id, Delivery.recipient)
          .where(Delivery.status == "pending", Delivery.send_after <= bindparam("now"))
          .order_by(Delivery.send_after, Delivery.id).limit(bindparam("limit")))


def ready(session: Session, *, now: datetime, limit: int = 200) -> list[tuple[int, str]]:
    """(id, recipient) of pending deliveries whose time has come, oldest first."""
    return [(i, r) for i, r in session.execute(_READY, {"now": now, "limit": limit})]


def claim(session: Session, *, delivery_id: int, holder: str, now: datetime) -> Delivery | None:
    """Take a pending delivery for sending; None if another process already has it."""
    return session.scalars(
        update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "pending")
        .values(status="claimed", claimed_by=holder, claimed_at=now,
                attempts=Delivery.attempts + 1)
        .returning(Delivery)).one_or_none()  # the row as claimed, in the same statement


_TO_RECONCILE = select(
    Delivery.id, Delivery.recipient, Delivery.key, Delivery.claimed_at, Delivery.claimed_by,
    Delivery.attempts,
).where(
    Delivery.status == "claimed",
    or_(and_(Delivery.claimed_by.is_not(None), Delivery.claimed_at < bindparam("abandoned")),
        and_(Delivery.claimed_by.is_(None), Delivery.send_after <= bindparam("now"))),
).order_by(Delivery.id)


def to_reconcile(session: Session, *, now: datetime, lease: timedelta = CLAIM_LEASE
                 ) -> list[tuple[int, str, str, datetime | None, str | None, int]]:
    """Claimed deliveries whose outcome nobody knows, due for a look in Slack's history:
    (id, recipient, key, claimed_at, claimed_by, attempts) of each.

    Two kinds: claimed by a process that never recorded the outcome (it likely died), and
    attempts that ended in an unknown outcome (claimed_by is empty; send_after says when to look).
    """
    return [(i, recipient, key, claimed_at, claimed_by, attempts)
            for i, recipient, key, claimed_at, claimed_by, attempts
            in session.execute(_TO_RECONCILE, {"abandoned": now - lease, "now": now})]


def take_for_check(session: Session, *, delivery_id: int, holder: str, was_holder: str | None,
                   attempts: int) -> bool:
    """Take a delivery of unknown outcome for a history check; False if another process has it."""
    stmt = update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "claimed",
                                  Delivery.attempts == attempts)
    stmt = stmt.where(Delivery.claimed_by.is_(None) if was_holder is None
                      else Delivery.claimed_by == was_holder)
    result = session.execute(stmt.values(claimed_by=holder, attempts=attempts + 1))
    return getattr(result, "rowcount", 0) == 1


def backoff(attempts: int) -> timedelta:
    """How long to wait after the given number of attempts: 15 s, 30 s, 1 min, … up to 1 h."""
    return timedelta(seconds=min(3600, 15 * 2 ** (max(1, attempts) - 1)))


def _finish(session: Session, delivery_id: int, holder: str | None, **values: object) -> bool:
    stmt = update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "claimed")
    if holder is not None:
        stmt = stmt.where(Delivery.claimed_by == holder)
    result = session.execute(stmt.values(**values))
    return getattr(result, "rowcount", 0) == 1


def mark_sent(session: Session, *, delivery_id: int, holder: str | None, channel: str, ts: str,
              now: datetime) -> bool:
    """Record that Slack accepted the message."""
    return _finish(session, delivery_id, holder, status="sent", channel=channel, ts=ts, sent_at=now)


def mark_skipped(session: Session, *, delivery_id: int, holder: str | None, reason: str) -> bool:
    """Record that the notification no longer makes sense, and why."""
    return _finish(session, delivery_id, holder, status="skipped", reason=reason)


def mark_failed(session: Session, *, delivery_id: int, holder: str | None, reason: str) -> bool:
    """Record a permanent failure (the admins hear about it)."""
    return _finish(session, delivery_id, holder, status="failed", reason=reason)


def retry_later(session: Session, *, delivery_id: int, holder: str | None, reason: str,
                attempts: int, now: datetime) -> bool:
    """Put a transiently failed delivery back, with exponential backoff; give up after MAX_ATTEMPTS."""
    if attempts >= MAX_ATTEMPTS:
        return mark_failed(session, delivery_id=delivery_id, holder=holder,
                           reason=f"gave up after {attempts} attempts: {reason}")
    return _finish(session, delivery_id, holder, status="pending", reason=reason,
                   send_after=now + backoff(attempts), claimed_by=None, claimed_at=None)


def mark_unknown(session: Session, *, delivery_id: int, holder: str | None, reason: str,
                 attempts: int, now: datetime) -> bool:
    """The message may or may not be in Slack: keep it claimed, look in the history before any re-send.

    The claim keeps claimed_at (the attempt's moment, where the history search starts) and loses
    its holder; send_after is when to look (with backoff). After MAX_ATTEMPTS it fails, and the
    admins hear of it: it is never re-sent blind.
    """
    if attempts >= MAX_ATTEMPTS:
        return mark_failed(session, delivery_id=delivery_id, holder=holder,
                           reason=f"gave up after {attempts} attempts, not knowing whether it "
                                  f"arrived: {reason}")
    return _finish(session, delivery_id, holder, reason=reason, claimed_by=None,
                   send_after=now + backoff(attempts))


def release(session: Session, *, delivery_id: int, holder: str | None = None,
            now: datetime | None = None) -> bool:
    """A claim whose message is not in Slack goes back to pending (to be sent at once)."""
    values: dict[str, object] = {"status": "pending", "claimed_by": None, "claimed_at": None}
    if now is not None:
        values["send_after"] = now
    return _finish(session, delivery_id, holder, **values)


_UNREPORTED = (select(Delivery).where(Delivery.status == "failed", Delivery.reported_at.is_(None),
                                      Delivery.kind != "admin_alert").order_by(Delivery.id))


def unreported_failures(session: Session) -> list[Delivery]:
    """Failed deliveries the admins have not been told about (admin alerts excluded)."""
    return list(session.scalars(_UNREPORTED))


_ANY_UNREPORTED = _UNREPORTED.with_only_columns(Delivery.id).limit(1)


def has_unreported_failures(session: Session) -> bool:
    """True when some failed delivery has not been told to the admins yet."""
    return session.scalar(_ANY_UNREPORTED) is not None


def mark_reported(session: Session, *, ids: list[int], now: datetime) -> None:
    """Remember that the admins were told about these failures."""
    if ids:
        session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(reported_at=now))


def counts(session: Session) -> dict[str, int]:
    """How many deliveries are in each status."""
    return {status: int(n) for status, n in
            session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))}


def recent(session: Session, *, statuses: tuple[str, ...], limit: int = 10) -> list[Delivery]:
    """The latest deliveries in the given statuses."""
    stmt = (select(Delivery).where(Delivery.status.in_(statuses))
            .order_by(Delivery.id.desc()).limit(limit))
    return list(session.scalars(stmt))


def upcoming(session: Session, *, now: datetime, limit: int = 10) -> list[Delivery]:
    """Pending deliveries, soonest first."""
    stmt = (select(Delivery).where(Delivery.status == "pending")
            .order_by(Delivery.send_after).limit(limit))
    return list(session.scalars(stmt))


def last_sent(session: Session, *, kind: str, recipient: str) -> datetime | None:
    """When a notification of this kind last reached this recipient."""
    return session.scalar(select(func.max(Delivery.sent_at))
                          .where(Delivery.kind == kind, Delivery.recipient == recipient,
                                 Delivery.status == "sent"))
