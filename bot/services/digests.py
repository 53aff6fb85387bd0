"""Gather a coordinator digest's facts from the database."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config.types import Config
from bot.domain import digest as digest_domain
from bot.services import commitments, outbox
from bot.store.models import AuditEntry, Commitment

MAX_CHANGES = 200


def open_items(session: Session) -> list[digest_domain.Item]:
    """Every open commitment as the digest sees it (plain columns, no ORM objects)."""
    stmt = (select(Commitment.id, Commitment.text, Commitment.owner_id, Commitment.rec_id,
                   Commitment.due_at, Commitment.status)
            .where(Commitment.status == "open").order_by(Commitment.due_at, Commitment.id))
    return [digest_domain.Item(id=i, text=t, owner_id=o, rec_id=r, due_at=d, status=st)
            for i, t, o, r, d, st in session.execute(stmt)]


def gather(session: Session, *, config: Config, coordinator_id: str, now: datetime
           ) -> digest_domain.Digest:
    """The digest for one coordinator as of now (changes since their last digest, or the last week)."""
    since = outbox.last_sent(session, kind="digest", recipient=coordinator_id)
    items = open_items(session)
    stmt = (select(AuditEntry, Commitment.text).join(Commitment,
                                                     Commitment.id == AuditEntry.commitment_id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(MAX_CHANGES))
    if since is not None:
        stmt = stmt.where(AuditEntry.at > since)
    else:
        stmt = stmt.where(AuditEntry.at > now - timedelta(days=7))
    changes = [digest_domain.Change(commitment_id=e.commitment_id, actor_id=e.actor_id,
                                    action=e.action, at=e.at, text=text)
               for e, text in session.execute(stmt)]
    return digest_domain.build(config.knowledge, now=now, since=since,
                               counts=commitments.counts_by_rec(session, now=now),
                               open_items=items, changes=list(reversed(changes)))
