"""The session brief as plain text: the same sections as the Word document, for the console and
for a `.txt` copy beside it."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.brief import Brief, BriefRow, RecBrief, readiness_word, rec_status
from bot.domain.dates import format_moment

COLUMNS = ("Delegation", "Owner", "What", "Deadline", "Status", "Slippage")


def day(moment: datetime, tz: ZoneInfo) -> str:
    """'4 Mar 2027' in the given timezone."""
    local = moment.astimezone(tz)
    return f"{local.day} {local:%b %Y}"


def slippage(row: BriefRow) -> str:
    """'moved 2×, 24 days later' or '—'."""
    if not row.moves:
        return "—"
    days = abs(row.days_moved)
    word = "later" if row.days_moved > 0 else "earlier" if row.days_moved < 0 else "net"
    return f"moved {row.moves}×, {days} day{'s' if days != 1 else ''} {word}"


def cells(row: BriefRow, tz: ZoneInfo) -> tuple[str, ...]:
    """A table row's cells, in COLUMNS order."""
    return (row.delegation or "—", row.owner_name, row.text, day(row.due_at, tz), row.status,
            slippage(row))


def session_line(brief: Brief) -> str:
    """When and where the session is."""
    return f"{brief.session_title}: {format_moment(brief.session_at, brief.tz)}, {brief.place}"


def generated_line(brief: Brief) -> str:
    """When the brief was generated."""
    return f"Generated {format_moment(brief.generated_at, brief.tz)} by wgbot."


def context_paragraphs(brief: Brief) -> list[str]:
    """The report's context, as the brief opens with it."""
    c = brief.kb.context
    return [f"The {c.conference} ({c.place}, {c.date}) produced the report “{c.report_title}”.",
            c.working_group, c.special_session]


def more_line(r: RecBrief) -> str:
    """Commitments beyond the table."""
    return f"…and {r.more:,} more commitments (`/wg list {r.rec.id}`, `/wg export csv`)."


def render(brief: Brief) -> str:
    """The whole brief as plain text."""
    return "\n".join(_lines(brief)) + "\n"


def _lines(brief: Brief) -> Iterator[str]:
    f = brief.figures
    t = f.totals
    yield brief.title.upper()
    yield session_line(brief)
    yield generated_line(brief)
    yield ""
    yield "CONTEXT"
    yield from context_paragraphs(brief)
    yield ""
    yield "OVERVIEW"
    yield (f"{t.total} commitments: {t.done} done, {t.open} open ({t.overdue} overdue); "
           f"{f.unlinked.total} of them not linked to a recommendation.")
    yield ""
    yield "KEY AREAS"
    for a in brief.kb.key_areas:
        ar = f.per_area[a.id]
        r = ar.readiness
        yield (f"{a.number}. {a.title}: {readiness_word(r)} — {r.done} done, {r.open} open, "
               f"{r.overdue} overdue")
    yield ""
    yield "RECOMMENDATIONS NOBODY HAS TAKEN ON"
    titles = {r.id: r.title for r in brief.kb.recommendations}
    yield from ([f"{rid} — {titles[rid]}" for rid in f.nobody] or ["None."])
    for term, heading in (("short", "SHORT-TERM RECOMMENDATIONS"), ("long", "LONG-TERM RECOMMENDATIONS")):
        yield ""
        yield heading
        for rb in (x for x in brief.recs if x.rec.term == term):
            yield ""
            yield f"{rb.rec.id} — {rb.rec.title}"
            yield f"Report: {rb.rec.text}"
            for row in rb.rows:
                yield "  • " + " | ".join(cells(row, brief.tz))
            if rb.more > 0:
                yield "  " + more_line(rb)
            yield f"Status: {rec_status(rb.readiness)}"
    yield ""
    yield (f"Not linked to a recommendation: {f.unlinked.done} done, {f.unlinked.open} open, "
           f"{f.unlinked.overdue} overdue.")
