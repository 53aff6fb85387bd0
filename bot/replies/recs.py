"""Replies about the report: overview, short- and long-term recommendations, key areas, one id, search."""
from __future__ import annotations

import re

from bot.config.knowledge import KnowledgeBase, Recommendation
from bot.domain.reply import (
    Actions,
    Button,
    Divider,
    Header,
    Mrkdwn,
    Note,
    Part,
    Reply,
    Section,
    escape,
    md,
)
from bot.domain.search import rank, search_report, suggestions

TERM_TITLE = {"short": "Recommendations for the OSCE in the short term",
              "long": "Recommendations for the OSCE in the long term"}


def _source(kb: KnowledgeBase) -> str:
    c = kb.context
    return f"From the report of the {c.conference}, {c.place}, {_human_date(c.date)}."


def _human_date(iso: str) -> str:
    from datetime import date

    try:
        d = date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{d.day} {d.strftime('%B %Y')}"


def _areas_line(kb: KnowledgeBase, rec: Recommendation) -> str:
    names = [f"{a.number}) {a.title}" for a in kb.key_areas if a.id in rec.areas]
    return "Key areas: " + "; ".join(names) if names else ""


def _line(rec: Recommendation) -> str:
    return f"*{rec.id}* · *{rec.title}*\n{rec.summary}"


def overview(kb: KnowledgeBase) -> Reply:
    """`/wg recs`: what the report recommends, at a glance."""
    short = "\n".join(f"• *{r.id}* {r.title}" for r in kb.short_term())
    long = "\n".join(f"• *{r.id}* {r.title}" for r in kb.long_term())
    areas = "\n".join(f"{a.number}. {a.title}" for a in kb.key_areas)
    parts: list[Part] = [
        Header("What the Rome conference recommended"),
        Section(f"{kb.context.working_group}"),
        Section(f"*Short term* ({len(kb.short_term())})\n{short}"),
        Section(f"*Long term* ({len(kb.long_term())})\n{long}"),
        Section(f"*Five key areas of the mid- to long-term response*\n{areas}"),
        Note(_source(kb) + " `/wg recs S3` shows one in full · `/wg recs search youth` finds by topic"),
    ]
    return Reply(parts=tuple(parts), text="What the Rome conference recommended", shareable=True)


def by_term(kb: KnowledgeBase, term: str) -> Reply:
    """`/wg recs short` or `/wg recs long`: each recommendation with its summary."""
    recs = kb.short_term() if term == "short" else kb.long_term()
    parts: list[Part] = [Header(TERM_TITLE[term])]
    for rec in recs:
        parts.append(Section(_line(rec)))
    parts.append(Note(_source(kb) + f" `/wg recs {recs[0].id}` shows the full wording."))
    return Reply(parts=tuple(parts), text=TERM_TITLE[term], shareable=True)


def areas(kb: KnowledgeBase) -> Reply:
    """`/wg recs areas`: key areas (and who serves them), security aspects, structural drivers."""
    parts: list[Part] = [Header("Key areas of the mid- to long-term response")]
    for a in kb.key_areas:
        serving = ", ".join(r.id for r in kb.serving(a.id)) or "none"
        parts.append(Section(f"*{a.number}. {a.title}*\nServed by: {serving}"))
    parts.append(Divider())
    aspects = "\n".join(f"• {s.title}" for s in kb.security_aspects)
    parts.append(Section(f"*Three key aspects of the security implications*\n{aspects}"))
    drivers = ", ".join(kb.structural_drivers)
    parts.append(Section(f"*Structural drivers of migration named in the report*\n{drivers}"))
    parts.append(Note(_source(kb)))
    return Reply(parts=tuple(parts), text="Key areas of the mid- to long-term response",
                 shareable=True)


def aspects(kb: KnowledgeBase) -> Reply:
    """`/wg recs aspects`: the three aspects of the security implications, in the report's words,
    with the recommendations that address each."""
    parts: list[Part] = [Header("Three key aspects of the security implications")]
    for a in kb.security_aspects:
        recs = [r for r in (kb.get(i) for i in a.recommendations) if r is not None]
        addressed = "\n".join(f"• *{r.id}* {r.title}" for r in recs) or "• none linked yet"
        parts.append(Section(f"*{a.title}*\n_“{a.text}”_\nAddressed by:\n{addressed}"))
    parts.append(Note(_source(kb) + " Which recommendations address each aspect is the working "
                      "group's reading, not the report's words."))
    return Reply(parts=tuple(parts), text="Three key aspects of the security implications",
                 shareable=True)


def drivers(kb: KnowledgeBase) -> Reply:
    """`/wg recs drivers`: the structural drivers of migration and the recommendation naming them."""
    naming = [r for r in kb.recommendations
              if kb.structural_drivers and all(d in r.text for d in kb.structural_drivers)]
    lines = "\n".join(f"• {d}" for d in kb.structural_drivers) or "• none listed"
    parts: list[Part] = [Header("Structural drivers of migration"), Section(lines)]
    if naming:
        parts.append(Section("Named in " + ", ".join(f"*{r.id}* {r.title}" for r in naming)
                             + f". `/wg recs {naming[0].id}` shows the full wording."))
    parts.append(Note(_source(kb)))
    return Reply(parts=tuple(parts), text="Structural drivers of migration", shareable=True)


def one(kb: KnowledgeBase, rec: Recommendation, *, open_count: int = 0, done_count: int = 0) -> Reply:
    """`/wg recs S3`: one recommendation in full."""
    term = "Short term" if rec.term == "short" else "Long term"
    progress = (f"Commitments: {open_count} open, {done_count} done"
                if open_count or done_count else "Nobody has committed to this yet.")
    parts: list[Part] = [
        Header(f"{rec.id} · {rec.title}"),
        Section(rec.summary),
        Section(md("*The report's words* ({})\n>{}", term.lower(), rec.text)),
    ]
    line = _areas_line(kb, rec)
    if line:
        parts.append(Note(line))
    parts.append(Note(f"{progress} · `/wg list {rec.id}` · "
                      f"`/wg commit <what> by <date> for {rec.id}`"))
    neighbours = _neighbours(kb, rec)
    if neighbours:
        parts.append(Actions(tuple(
            Button(label=f"{label} {r.id}", action_id=f"wg_rec_{label.lower()}", value=r.id,
                   command=f"/wg recs {r.id}") for label, r in neighbours)))
    return Reply(parts=tuple(parts), text=f"{rec.id}: {rec.title}", shareable=True)


def _neighbours(kb: KnowledgeBase, rec: Recommendation) -> list[tuple[str, Recommendation]]:
    ordered = list(kb.recommendations)
    i = ordered.index(rec)
    out: list[tuple[str, Recommendation]] = []
    if i > 0:
        out.append(("Previous", ordered[i - 1]))
    if i + 1 < len(ordered):
        out.append(("Next", ordered[i + 1]))
    return out


def search(kb: KnowledgeBase, words: str) -> Reply:
    """`/wg recs search <words>`: the whole report, recommendations first, then up to three
    passages with their place and the matched words in bold; a corrected typo is said so."""
    found = search_report(kb, words)
    shown = words[:100]
    if not found:
        ideas = suggestions(kb, words)
        tip = ("Try " + ", ".join(f"`/wg recs search {w}`" for w in ideas[:3]) + ".") if ideas else ""
        text = (f"No recommendation mentions *{shown}*, and no passage of the report does "
                f"either. {tip}").strip()
        return Reply(parts=(Section(text), Note("`/wg recs` lists all sixteen.")), text=text)
    title = "Recommendations about" if found.recommendations else "The report about"
    parts: list[Part] = [Header(f"{title} “{words[:80]}”")]
    if found.corrected:
        parts.append(Section(md("Showing results for *{}*", found.corrected)))
    for hit in found.recommendations:
        parts.append(Section(_line(hit.recommendation)))
    if found.passages:
        parts.append(Section(f"*In the report* ({len(found.passages)})"))
    for p in found.passages:
        parts.append(Section(md("_{}_\n{}", p.passage.place, bolded(p.snippet, p.words))))
    counts = []
    if found.recommendations:
        n = len(found.recommendations)
        counts.append(f"{n} recommendation{'s' if n != 1 else ''}")
    if found.passages:
        n = len(found.passages)
        counts.append(f"{n} passage{'s' if n != 1 else ''}")
    hint = (f" · `/wg recs {found.recommendations[0].recommendation.id}` shows the full wording."
            if found.recommendations else "")
    parts.append(Note(" and ".join(counts) + ", best first" + hint))
    return Reply(parts=tuple(parts), text=f"{title} {words[:80]}", shareable=True)


def bolded(text: str, words: tuple[str, ...]) -> Mrkdwn:
    """The text with each of the words (whole words, as written there) in bold; the rest escaped."""
    wanted = sorted({w for w in words if w}, key=len, reverse=True)
    if not wanted:
        return escape(text)
    pattern = re.compile(r"(?<![\w\-'])(" + "|".join(map(re.escape, wanted)) + r")(?![\w\-'])")
    pieces = pattern.split(text)
    return Mrkdwn("").join(md("*{}*", piece) if i % 2 else piece
                           for i, piece in enumerate(pieces))


RELATED_SCORE = 8.0
RELATED_MARGIN = 1.5


def clearly_related(kb: KnowledgeBase, text: str) -> Recommendation | None:
    """The one recommendation a commitment's text is clearly about, or None when unclear."""
    hits = rank(kb, text, limit=2)
    if not hits or hits[0].score < RELATED_SCORE or hits[0].score >= 1000:
        return None
    if len(hits) > 1 and hits[0].score < RELATED_MARGIN * hits[1].score:
        return None
    return hits[0].recommendation


def unknown_id(kb: KnowledgeBase, rec_id: str) -> Reply:
    """A recommendation id that does not exist."""
    text = (f"There is no recommendation *{rec_id}*. The report has "
            f"{kb.short_term()[0].id}–{kb.short_term()[-1].id} (short term) and "
            f"{kb.long_term()[0].id}–{kb.long_term()[-1].id} (long term).")
    return Reply(parts=(Section(text), Note("`/wg recs` lists them all.")), text=text)
