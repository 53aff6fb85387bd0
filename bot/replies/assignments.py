"""The DM that tells a member what others recorded for them (one per batch window)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.knowledge import KnowledgeBase
from bot.domain.reply import Note, Part, Reply, Section
from bot.replies.commitments import assigned_dm, line
from bot.store.models import Commitment

SHOWN = 10


def _people(ids: Sequence[str]) -> str:
    named = [f"<@{i}>" for i in ids[:3]]
    if len(ids) > 3:
        return ", ".join(named) + f" and {len(ids) - 3} others"
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def assigned(items: Sequence[Commitment], *, kb: KnowledgeBase, tz: ZoneInfo, now: datetime) -> Reply:
    """One assignment: the commitment with its buttons; several: one list, the first ten shown."""
    commitments = list(items)
    if len(commitments) == 1:
        c = commitments[0]
        return assigned_dm(c, kb=kb, tz=tz, now=now, assigner_id=c.creator_id)
    creators = list(dict.fromkeys(c.creator_id for c in commitments))
    n = len(commitments)
    parts: list[Part] = [Section(f"{_people(creators)} recorded {n} commitments for you:")]
    parts.extend(Section(line(c, kb=kb, tz=tz, now=now, show_owner=False))
                 for c in commitments[:SHOWN])
    more = f"…and {n - SHOWN} more. " if n > SHOWN else ""
    parts.append(Note(more + "`/wg list` shows them all with Done, Move and Cancel."))
    return Reply(parts=tuple(parts), text=f"{n} new commitments assigned to you", ephemeral=False)
