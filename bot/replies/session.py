"""Replies about the special session: `/wg session` readiness and the App Home tab."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.config.types import Config
from bot.domain.dates import format_moment
from bot.domain.digest import NO_DELEGATION, Figures
from bot.config.knowledge import KnowledgeBase
from bot.domain.readiness import Readiness
from bot.domain.reply import Divider, Fields, Header, Note, Part, Reply, Section
from bot.domain.views import CommitmentView
from bot.replies.commitments import until


def countdown(config: Config, *, now: datetime, tz: ZoneInfo) -> str:
    """'*Special session …* — Thu 4 Mar 2027, 10:00 Europe/Vienna, Hofburg (in 96 days)'."""
    s = config.session
    return session_heading(s.title, s.starts_at, s.place, now=now, tz=tz)


def session_heading(title: str, starts_at: datetime, place: str, *, now: datetime,
                 tz: ZoneInfo) -> str:
    """The session's title, moment and place, and how far off it is, as every reply says it."""
    left = until(starts_at, now) if starts_at > now else "already started"
    return f"*{title}* — {format_moment(starts_at, tz)}, {place} ({left})"


def status_text(r: Readiness) -> str:
    """'3 done, 4 open, ⚠️ 1 overdue', or '⚪ nobody committed'."""
    if r.total == 0:
        return "⚪ nobody committed"
    bits = [f"{r.done} done", f"{r.open} open"]
    if r.overdue:
        bits.append(f"⚠️ {r.overdue} overdue")
    return ", ".join(bits)


def _row(label: str, r: Readiness) -> str:
    return f"{label}: {status_text(r)}"


def area_lines(kb: KnowledgeBase, f: Figures) -> list[str]:
    """Each key area's readiness, naming the recommendations its numbers come from."""
    out = []
    for a in kb.key_areas:
        ar = f.per_area[a.id]
        via = ""
        if ar.sources:
            via = " — from " + ", ".join(f"{rid} ({n})" for rid, n in ar.sources)
        if ar.nobody:
            via += ("; " if via else " — ") + "nobody on " + ", ".join(ar.nobody)
        out.append(f"{a.number}. {a.title}: {status_text(ar.readiness)}{via}")
    return out


def rec_lines(kb: KnowledgeBase, f: Figures, *, term: str | None = None) -> list[str]:
    """Each recommendation's readiness (of one term, or all, then the unlinked line)."""
    recs = kb.recommendations if term is None else tuple(r for r in kb.recommendations
                                                         if r.term == term)
    out = [_row(f"*{r.id}* {r.title}", f.per_rec[r.id]) for r in recs]
    if term is None or term == "long":
        out.append(_row("_Not linked to a recommendation_", f.unlinked))
    return out


def delegation_lines(f: Figures, *, limit: int = 10) -> list[str]:
    """Readiness per delegation, the busiest first."""
    rows = [_row(name if name != NO_DELEGATION else f"_{name}_", r)
            for name, r in f.per_delegation[:limit]]
    if len(f.per_delegation) > limit:
        rows.append(f"…and {len(f.per_delegation) - limit} more delegations")
    return rows


COUNTING_NOTE = ("Totals count each commitment once (the recommendations plus those linked to none); "
                 "a commitment counts under every key area its recommendation serves, so the key "
                 "areas add up to more.")


def readiness(*, config: Config, figures: Figures, mine: Sequence[CommitmentView], tz: ZoneInfo,
              now: datetime) -> Reply:
    """`/wg session`: when, how long, readiness per key area and recommendation, and what you owe."""
    kb = config.knowledge
    t = figures.totals
    parts: list[Part] = [Header("The special session on migration"),
                         Section(countdown(config, now=now, tz=tz)),
                         Section(f"*All commitments*: {status_text(t)}")]
    parts.append(Section("*Readiness per key area*\n" + "\n".join(area_lines(kb, figures))))
    parts.append(Section("*Short term*\n" + "\n".join(rec_lines(kb, figures, term="short"))))
    parts.append(Section("*Long term*\n" + "\n".join(rec_lines(kb, figures, term="long"))))
    parts.append(Note(COUNTING_NOTE))
    if figures.nobody:
        parts.append(Note("Nobody has committed to " + ", ".join(figures.nobody) + " yet."))
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


def home(*, config: Config, items: Sequence[CommitmentView], total: int, tz: ZoneInfo,
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
    return Reply(parts=tuple(parts), text="Working group on migration")
