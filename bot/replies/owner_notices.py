"""The DM that tells a member what others did with their commitments (one per batch window)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config.knowledge import KnowledgeBase
from bot.domain.dates import format_moment
from bot.domain.notices import Change
from bot.domain.reply import Mrkdwn, Note, Part, Reply, Section, md, mention
from bot.replies.commitments import assigned_dm

SHOWN = 10


def _people(ids: Sequence[str]) -> Mrkdwn:
    named = [mention(i) for i in ids[:3]]
    if len(ids) > 3:
        return Mrkdwn(", ").join(named) + md(" and {} others", len(ids) - 3)
    return named[0] if len(named) == 1 else \
        Mrkdwn(", ").join(named[:-1]) + Mrkdwn(" and ") + named[-1]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _line(ch: Change, tz: ZoneInfo) -> Mrkdwn:
    c = ch.commitment
    who = mention(ch.actor_id)
    if ch.action == "created":
        return md("{} recorded *#{}* “{}” for you, due {}.", who, c.id, c.text,
                  format_moment(c.due_at, tz))
    if ch.action == "reassigned":
        return md("{} gave you *#{}* “{}”, due {}.", who, c.id, c.text,
                  format_moment(c.due_at, tz))
    if ch.action == "moved":
        when = f"; it is now due {format_moment(ch.due_at, tz)}" if ch.due_at else ""
        return md("{} moved *#{}* “{}”{}.", who, c.id, c.text, when)
    return md("{} {} *#{}* “{}”.", who, ch.action, c.id, c.text)


def notice(items: Sequence[Change], *, kb: KnowledgeBase, tz: ZoneInfo, now: datetime) -> Reply:
    """One new assignment: the commitment with its buttons; anything more: one list."""
    if len(items) == 1 and items[0].action == "created":
        ch = items[0]
        return assigned_dm(ch.commitment, kb=kb, tz=tz, now=now, assigner_id=ch.actor_id)
    created = len({ch.commitment.id for ch in items if ch.action in ("created", "reassigned")})
    changed = len({ch.commitment.id for ch in items if ch.action not in ("created", "reassigned")})
    what = [f"recorded {_plural(created, 'commitment')} for you" if created else "",
            f"changed {changed} of yours" if changed else ""]
    people = _people(list(dict.fromkeys(ch.actor_id for ch in items)))
    parts: list[Part] = [Section(md("{} {}:", people, " and ".join(w for w in what if w)))]
    parts.extend(Section(_line(ch, tz)) for ch in items[:SHOWN])
    more = f"…and {len(items) - SHOWN} more. " if len(items) > SHOWN else ""
    parts.append(Note(more + "`/wg list` shows your open commitments with Done, Move and Cancel."))
    text = (f"{_plural(created, 'new commitment')} assigned to you" if not changed
            else f"{_plural(len(items), 'change')} to your commitments")
    return Reply(parts=tuple(parts), text=text)
