"""The brief for the Chair as a Word document (python-docx): context, overview, key areas, the
recommendations nobody took on, the chart, then each recommendation with the report's wording,
its commitments and a one-line status."""
from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Inches, Pt

from bot.brief.text import (
    COLUMNS,
    cells,
    context_paragraphs,
    generated_line,
    more_line,
    session_line,
)
from bot.domain.brief import Brief, readiness_word, rec_status

AREA_COLUMNS = ("Key area", "Done", "Open", "Overdue", "Readiness")


def document_docx(brief: Brief, *, chart: bytes | None) -> bytes:
    """The .docx file's bytes."""
    doc = Document()
    doc.styles["Normal"].font.size = Pt(10)
    doc.core_properties.title = brief.title
    doc.core_properties.author = "wgbot"
    doc.add_heading(brief.title, level=0)
    doc.add_paragraph(session_line(brief))
    doc.add_paragraph(generated_line(brief))
    f = brief.figures
    t = f.totals

    doc.add_heading("Context", level=1)
    for text in context_paragraphs(brief):
        doc.add_paragraph(text)

    doc.add_heading("Overview", level=1)
    doc.add_paragraph(f"{t.total} commitments: {t.done} done, {t.open} open ({t.overdue} overdue); "
                      f"{f.unlinked.total} of them not linked to a recommendation. A commitment "
                      "counts under every key area its recommendation serves.")

    doc.add_heading("Key areas", level=1)
    table = _table(doc, AREA_COLUMNS)
    for a in brief.kb.key_areas:
        r = f.per_area[a.id].readiness
        _row(table, (f"{a.number}. {a.title}", str(r.done), str(r.open), str(r.overdue),
                     readiness_word(r)))

    doc.add_heading("Recommendations nobody has taken on", level=1)
    titles = {r.id: r.title for r in brief.kb.recommendations}
    if f.nobody:
        for rid in f.nobody:
            doc.add_paragraph(f"{rid} — {titles[rid]}", style="List Bullet")
    else:
        doc.add_paragraph("None: every recommendation has at least one commitment.")

    if chart is not None:
        doc.add_heading("Charts", level=1)
        doc.add_picture(io.BytesIO(chart), width=Inches(5.5))

    for term, heading in (("short", "Short-term recommendations"),
                          ("long", "Long-term recommendations")):
        doc.add_heading(heading, level=1)
        for rb in (x for x in brief.recs if x.rec.term == term):
            doc.add_heading(f"{rb.rec.id} — {rb.rec.title}", level=2)
            doc.add_paragraph(rb.rec.text, style="Quote")
            if rb.rows:
                table = _table(doc, COLUMNS)
                for row in rb.rows:
                    _row(table, cells(row, brief.tz))
            if rb.more > 0:
                doc.add_paragraph(more_line(rb))
            p = doc.add_paragraph()
            p.add_run("Status: ").bold = True
            p.add_run(rec_status(rb.readiness))

    doc.add_heading("Commitments not linked to a recommendation", level=1)
    u = f.unlinked
    doc.add_paragraph(f"{u.done} done, {u.open} open, {u.overdue} overdue.")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _table(doc, headers: tuple[str, ...]):  # type: ignore[no-untyped-def]
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Light Grid Accent 1"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    return table


def _row(table, values: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    for cell, text in zip(table.add_row().cells, values, strict=True):
        cell.text = text
