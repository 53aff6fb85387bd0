"""Bulk-seed a fresh database with members, commitments, their audit trail and past deliveries.

Rows go straight into the real tables with SQLAlchemy Core (after the real migrations), shaped
like a bot that has been running for a while: deadlines from 60 days ago to 300 days ahead,
~70% open / 20% done / 10% cancelled, recommendation S1–S6, L1–L10 or none, overdue nudges
in their steady state (the next one still ahead, or none left), and the reminders already sent
recorded in the outbox.

Random deadlines never fall between 08:00 and 14:00 UTC, so a sweep window placed around
10:00 UTC (plus the 2h offset) contains only the deadlines a benchmark plants on purpose.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from bot.config.types import Config
from bot.domain import planning
from bot.domain.planning import Planned
from bot.store import migrate
from bot.store.db import make_engine
from bot.store.models import AuditEntry, Commitment, Delivery, Member, SweepMark

RECS: tuple[str, ...] = tuple(f"S{i}" for i in range(1, 7)) + tuple(f"L{i}" for i in range(1, 11))
TIMEZONES: tuple[str | None, ...] = ("Europe/Vienna", "Europe/Vienna", "Europe/Vienna",
                                     "Europe/Warsaw", "Europe/London", "Asia/Almaty",
                                     "America/New_York", None)
VERBS = ("Draft", "Review", "Circulate", "Brief the delegation on", "Organise a workshop on",
         "Map good practices in", "Prepare a non-paper on", "Consult partners about")
TOPICS = ("border management", "first-asylum support", "anti-trafficking cooperation",
          "integration policies", "youth-oriented programmes", "return procedures",
          "data sharing with Europol", "protection along the routes", "relocation schemes")
AVOID_HOURS_UTC = range(8, 14)  # no random deadline (or its nudges) near a benchmark's window
BATCH = 5000


@dataclass(frozen=True)
class Planted:
    """A commitment a benchmark wants at an exact deadline (open, no nudge due soon)."""

    owner_id: str
    due_at: datetime
    rec_id: str | None = "S3"


@dataclass
class SeedReport:
    """What was written, and how long it took."""

    members: int = 0
    commitments: int = 0
    audit_entries: int = 0
    deliveries: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def member_ids(n: int) -> list[str]:
    """Slack-shaped user ids for n members."""
    return [f"U0M{i:05d}" for i in range(1, n + 1)]


def fresh_database(url: str) -> Engine:
    """Apply the real migrations to a new database and return an engine for it."""
    migrate.upgrade(url)
    return make_engine(url)


def _random_due(rng: random.Random, now: datetime) -> datetime:
    day = now + timedelta(days=rng.uniform(-60, 300))
    hour = rng.choice([h for h in range(24) if h not in AVOID_HOURS_UTC])
    return day.replace(hour=hour, minute=rng.randrange(60), second=0, microsecond=0)


def _steady_nudge(due: datetime, now: datetime, config: Config) -> tuple[datetime | None, int]:
    """(next_nudge_at, nudges sent) of an open commitment in a bot that swept until `now`."""
    if config.reminders.overdue_max <= 0:
        return None, 0
    for k in range(1, config.reminders.overdue_max + 1):
        candidate = planning.nth_working_day_after(due, k, config.timezone)
        if candidate > now:
            return candidate, k - 1
    return None, config.reminders.overdue_max


def _sent(p: Planned, now: datetime, ts: int) -> dict[str, Any]:
    return {"key": p.key, "kind": p.kind, "recipient": p.recipient, "subject": p.subject,
            "due_at": p.moment, "send_after": p.send_after, "status": "sent", "attempts": 1,
            "claimed_by": "seed", "claimed_at": p.send_after, "sent_at": p.send_after,
            "channel": "D" + p.recipient[1:], "ts": f"{ts}.000000", "created_at": p.moment}


def _insert(engine: Engine, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for i in range(0, len(rows), BATCH):
            conn.execute(insert(table), list(rows[i:i + BATCH]))


def seed(engine: Engine, *, now: datetime, config: Config, members: int, commitments: int,
         planted: Iterable[Planted] = (), extra_members: Iterable[str] = (), seed_value: int = 7,
         sweep_mark: datetime | None = None) -> SeedReport:
    """Write `commitments` rows (planted ones included) over `members` members, refreshed at now."""
    started = time.perf_counter()
    rng = random.Random(seed_value)
    report = SeedReport()
    ids = member_ids(members)
    people = list(dict.fromkeys([*ids, *extra_members, *(p.id for p in config.admins),
                                 *(p.id for p in config.coordinators)]))
    member_rows = [{"id": uid, "name": f"Member {uid[3:]}", "tz": rng.choice(TIMEZONES),
                    "refreshed_at": now} for uid in people]
    planted = list(planted)
    c_rows: list[dict[str, Any]] = []
    a_rows: list[dict[str, Any]] = []
    d_rows: list[dict[str, Any]] = []
    ts = int(now.timestamp()) - 400 * 86400
    for cid in range(1, commitments + 1):
        chosen = planted[cid - 1] if cid <= len(planted) else None
        owner = chosen.owner_id if chosen else rng.choice(ids)
        creator = owner if chosen or rng.random() < 0.9 else rng.choice(ids)
        due = chosen.due_at if chosen else _random_due(rng, now)
        rec = chosen.rec_id if chosen else (rng.choice(RECS) if rng.random() < 0.8 else None)
        r = rng.random()
        status = "open" if chosen or r < 0.7 else "done" if r < 0.9 else "cancelled"
        text = f"{rng.choice(VERBS)} {rng.choice(TOPICS)} (item {cid})"
        created = min(now, due) - timedelta(days=rng.uniform(1, 90))
        updated, completed, nudge_at, nudges = created, None, None, 0
        if status == "open":
            nudge_at, nudges = (planning.first_nudge(due, config=config), 0) if chosen \
                else _steady_nudge(due, now, config)
        else:
            updated = created + (min(now, due) - created) * rng.random()
            completed = updated if status == "done" else None
        c_rows.append({"id": cid, "text": text, "owner_id": owner, "creator_id": creator,
                       "rec_id": rec, "due_at": due, "due_words": due.strftime("%d %b %Y"),
                       "status": status, "created_at": created, "updated_at": updated,
                       "completed_at": completed, "next_nudge_at": nudge_at, "nudges": nudges})
        report.statuses[status] += 1
        a_rows.append({"commitment_id": cid, "actor_id": creator, "at": created,
                       "action": "created",
                       "changes": {"text": [None, text], "owner": [None, owner],
                                   "recommendation": [None, rec], "due": [None, due.isoformat()]}})
        if status != "open":
            a_rows.append({"commitment_id": cid, "actor_id": owner, "at": updated,
                           "action": status, "changes": {"status": ["open", status]}})
        subject = planning.commitment_subject(cid, due)
        for offset in config.reminders.deadline:
            moment = due - offset
            if created < moment <= min(now, updated if status != "open" else now):
                ts += 1
                d_rows.append(_sent(Planned("deadline", owner, subject, moment, moment), now, ts))
        for k in range(1, nudges + 1):
            moment = planning.nth_working_day_after(due, k, config.timezone)
            ts += 1
            d_rows.append(_sent(Planned("overdue", owner, subject, moment, moment), now, ts))
    last_digest = now - timedelta(days=(now.weekday() or 7))
    for person in config.coordinators:
        moment = last_digest.replace(hour=8, minute=0, second=0, microsecond=0)
        ts += 1
        d_rows.append(_sent(Planned("digest", person.id, "weekly", moment, moment), now, ts))
    _insert(engine, Member.__table__, member_rows)
    _insert(engine, Commitment.__table__, c_rows)
    _insert(engine, AuditEntry.__table__, a_rows)
    _insert(engine, Delivery.__table__, d_rows)
    if sweep_mark is not None:
        _insert(engine, SweepMark.__table__, [{"name": "reminders", "swept_until": sweep_mark}])
    report.members, report.commitments = len(member_rows), len(c_rows)
    report.audit_entries, report.deliveries = len(a_rows), len(d_rows)
    report.seconds = time.perf_counter() - started
    return report
