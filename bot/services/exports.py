"""Exports: commitments as CSV and deadlines plus the special session as an iCalendar file."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.config.types import Config
from bot.domain.reply import Attachment, spreadsheet_cell
from bot.services import delegations
from bot.store.models import Commitment, CommitmentOwner

UID_DOMAIN = "wgbot.osce-migration"
SESSION_LENGTH = timedelta(hours=3)
DEADLINE_SLOT = timedelta(minutes=30)
CSV_COLUMNS = ("id", "text", "owner_id", "owner", "delegation", "recommendation",
               "recommendation_title", "due_local", "due_utc", "status", "overdue", "created_by",
               "created_utc", "all_owner_ids", "all_recommendations")


def _commitments(session: Session, *, owner_id: str | None) -> list[Commitment]:
    stmt = (select(Commitment).options(joinedload(Commitment.owner))
            .where(Commitment.status == "open"))
    if owner_id:  # every commitment they hold, alone or with others
        stmt = stmt.where(Commitment.id.in_(select(CommitmentOwner.commitment_id)
                                            .where(CommitmentOwner.member_id == owner_id)))
    return list(session.scalars(stmt.order_by(Commitment.due_at, Commitment.id)).unique())


def csv_file(session: Session, *, config: Config, now: datetime, tz: ZoneInfo,
             owner_id: str | None = None) -> Attachment:
    """Open commitments (everyone's, or one owner's) as a CSV spreadsheet."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    dele = delegations.all_members(session, config=config)
    for c in _commitments(session, owner_id=owner_id):
        rec = config.knowledge.get(c.rec_id) if c.rec_id else None
        writer.writerow([c.id, spreadsheet_cell(c.text), c.owner_id,
                         spreadsheet_cell(c.owner.name), spreadsheet_cell(dele.get(c.owner_id) or ""),
                         c.rec_id or "", rec.title if rec else "",
                         c.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                         c.due_at.strftime("%Y-%m-%dT%H:%M:%SZ"), c.status,
                         "yes" if c.due_at <= now else "no", c.creator_id,
                         c.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"), " ".join(c.owner_ids),
                         " ".join(c.rec_ids)])
    stamp = now.astimezone(tz).strftime("%Y-%m-%d")
    return Attachment(filename=f"wg-commitments-{stamp}.csv", title="Working group commitments",
                      content=buf.getvalue().encode("utf-8-sig"))


def ics_file(session: Session, *, config: Config, now: datetime,
             owner_id: str | None = None) -> Attachment:
    """One event per open deadline plus the special session, with stable UIDs for re-import."""
    from icalendar import Calendar, Event  # on the first ics export, not in every process

    cal = Calendar()
    cal.add("prodid", "-//wgbot//OSCE working group on migration//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Working group on migration")
    s = config.session
    ev = Event()
    ev.add("uid", f"special-session@{UID_DOMAIN}")
    ev.add("summary", s.title)
    ev.add("location", s.place)
    ev.add("dtstart", s.starts_at)
    ev.add("dtend", s.starts_at + SESSION_LENGTH)
    ev.add("dtstamp", now)
    ev.add("description", config.knowledge.context.special_session)
    cal.add_component(ev)
    for c in _commitments(session, owner_id=owner_id):
        rec = config.knowledge.get(c.rec_id) if c.rec_id else None
        ev = Event()
        ev.add("uid", f"commitment-{c.id}@{UID_DOMAIN}")
        ev.add("summary", f"Due: {c.text[:120]} (#{c.id})")
        ev.add("dtstart", c.due_at - DEADLINE_SLOT)
        ev.add("dtend", c.due_at)
        ev.add("dtstamp", now)
        ev.add("last-modified", c.updated_at)
        ev.add("sequence", int(c.updated_at.timestamp()) - int(c.created_at.timestamp()))
        desc = [c.text, f"Owner: {c.owner.name}"]
        if rec:
            desc.append(f"For {rec.id}: {rec.title}")
        ev.add("description", "\n".join(desc))
        cal.add_component(ev)
    suffix = "mine" if owner_id else "all"
    return Attachment(filename=f"wg-deadlines-{suffix}.ics", title="Working group deadlines",
                      content=cal.to_ical())
