"""`/wg brief`: the summary message (readiness per key area and the gaps) beside the brief's files."""
from __future__ import annotations

from collections.abc import Sequence

from bot.domain.brief import Brief, readiness_word
from bot.domain.reply import Attachment, Fields, Header, Note, Part, Reply, Section
from bot.replies.session import session_heading, status_text


def summary(brief: Brief, *, files: Sequence[Attachment] = ()) -> Reply:
    """Totals, each key area's readiness, what nobody took on, what is late or slipping."""
    f = brief.figures
    t = f.totals
    kb = brief.kb
    parts: list[Part] = [
        Header("🗂️ Session brief"),
        Section(session_heading(brief.session_title, brief.session_at, brief.place,
                             now=brief.generated_at, tz=brief.tz)),
        Fields((f"*Done*\n{t.done}", f"*Open*\n{t.open}", f"*Overdue*\n{t.overdue}",
                f"*Nobody took on*\n{len(f.nobody)} of {len(kb.recommendations)}")),
        Section("*Readiness per key area*\n" + "\n".join(
            f"{a.number}. {a.title}: *{readiness_word(f.per_area[a.id].readiness)}* — "
            f"{status_text(f.per_area[a.id].readiness)}" for a in kb.key_areas)),
    ]
    gaps = []
    if f.nobody:
        titles = {r.id: r.title for r in kb.recommendations}
        gaps.append("• Nobody has taken on " + ", ".join(f"{rid} ({titles[rid]})" for rid in f.nobody))
    if t.overdue:
        gaps.append(f"• {t.overdue} commitment{'s are' if t.overdue != 1 else ' is'} overdue")
    if f.slipped_count:
        gaps.append(f"• {f.slipped_count} commitment{'s' if f.slipped_count != 1 else ''} moved "
                    "more than once")
    if f.unlinked.total:
        gaps.append(f"• {f.unlinked.total} commitment{'s' if f.unlinked.total != 1 else ''} "
                    "linked to no recommendation")
    parts.append(Section("*Gaps*\n" + ("\n".join(gaps) if gaps else "None.")))
    if files:
        names = ", ".join(f"*{a.filename}*" for a in files)
        parts.append(Note(f"Sending you {names} in a direct message: the chart, the Word document "
                          "for the Chair and the same brief as text."))
    return Reply(parts=tuple(parts), text=f"Session brief: {t.done} done, {t.open} open, "
                 f"{t.overdue} overdue, {len(f.nobody)} recommendations nobody took on")
