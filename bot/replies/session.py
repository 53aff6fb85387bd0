"""Replies about the special session: `/wg session` readiness and the App Home tab."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config.types import Config
from bot.domain.dates import format_moment
from bot.domain.readiness import Readiness, readiness_of
from bot.domain.reply import Divider, Fields, Header, Note, Part, Reply, Section
from bot.replies.commitments import until
from bot.store.models import Commitment


def countdown(config: Config, *, now: datetime, tz: ZoneInfo) -> str:
    """'*Special session …* — Thu 4 Mar 2027, 10:00 Europe/Vienna, Hofburg (in 96 days)'."""
    s = config.session
    when = format_moment(s.starts_at, tz)
    left = until(s.starts_at, now) if s.starts_at > now else "already started"
    return f"*{s.title}* — {when}, {s.place} ({left})"


def _row(label: str, r: Readiness) -> str:
    if r.total == 0:
        return f"{label}: ⚪ nobody committed"
    bits = [f"{r.done} done", f"{r.open} open"]
    if r.overdue:
        bits.append(f"⚠️ {r.overdue} overdue")
    return f"{label}: " + ", ".join(bits)


def readiness(*, config: Config, counts: dict[str | None, dict[str, int]],
              mine: Sequence[Commitment], tz: ZoneInfo, now: datetime) -> Reply:
    """`/wg session`: when, how long, readiness per key area and recommendation, and what you owe."""
    kb = config.knowledge
    per_rec, per_area = readiness_of(kb, counts)
    parts: list[Part] = [Header("The special session on migration"),
                         Section(countdown(config, now=now, tz=tz))]
    parts.append(Section("*Readiness per key area*\n" + "\n".join(
        _row(f"{a.number}. {a.title}", per_area[a.id]) for a in kb.key_areas)))
    short = "\n".join(_row(f"*{r.id}* {r.title}", per_rec[r.id]) for r in kb.short_term())
    long = "\n".join(_row(f"*{r.id}* {r.title}", per_rec[r.id]) for r in kb.long_term())
    parts.append(Section("*Short term*\n" + short))
    parts.append(Section("*Long term*\n" + long))
    nobody = [r.id for r in kb.recommendations if per_rec[r.id].total == 0]
    if nobody:
        parts.append(Note("Nobody has committed to " + ", ".join(nobody) + " yet."))
    parts.append(Divider())
    if mine:
        lines = "\n".join(f"• *#{c.id}* {c.text} — {format_moment(c.due_at, tz)} "
                          f"({until(c.due_at, now)})" for c in mine[:15])
        more = f"\n…and {len(mine) - 15} more (`/wg list`)" if len(mine) > 15 else ""
        parts.append(Section(f"*Yours, due before the session*\n{lines}{more}"))
    else:
        parts.append(Section("*Yours, due before the session*\nNothing. "
                             "`/wg commit <what> by the session for S1` takes one on."))
    return Reply(parts=tuple(parts), text="The special session on migration", shareable=True)


def home(*, config: Config, items: Sequence[Commitment], total: int, tz: ZoneInfo,
         now: datetime) -> Reply:
    """The App Home tab: countdown, then the viewer's open commitments, overdue first."""
    parts: list[Part] = [Header("Working group on migration"),
                         Section(countdown(config, now=now, tz=tz)), Divider(),
                         Header("Your open commitments")]
    if not items:
        parts.append(Section("None yet. Type `/wg commit <what> by <date> for L6` in any channel."))
    for c in items:
        flag = "⚠️ *overdue* · " if c.due_at <= now else ""
        rec = f" · {c.rec_id}" if c.rec_id else ""
        parts.append(Section(f"*#{c.id}* {c.text}\n{flag}due {format_moment(c.due_at, tz)} "
                             f"({until(c.due_at, now)}){rec}"))
    if total > len(items):
        parts.append(Note(f"{len(items)} of {total} shown · `/wg list` for the rest"))
    parts.append(Fields(("*Recommendations*\n`/wg recs`", "*Everything else*\n`/wg help`")))
    return Reply(parts=tuple(parts), text="Working group on migration", ephemeral=False)
