"""The brief for the Chair as a Word document (python-docx): context, overview, key areas, the
recommendations nobody took on, the chart, then each recommendation with the report's wording,
its commitments and a one-line status."""
from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Inches, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

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


# The styles the document uses, by name. python-docx finds a style given by name by reading every
# style of the document, and the default style as well, for each paragraph and table: half the
# time a document took. Their ids are looked up once per document instead (`_Styles`).
STYLES = ("Title", "Heading 1", "Heading 2", "Quote", "List Bullet", "Light Grid Accent 1")


class _Styles:
    """Paragraphs and tables of one document, styled by the ids of STYLES looked up once."""

    def __init__(self, doc: DocxDocument) -> None:
        self.doc = doc
        self.ids = {name: doc.styles[name].style_id for name in STYLES}

    def paragraph(self, text: str = "", style: str | None = None) -> Paragraph:
        p = self.doc.add_paragraph(text)
        if style is not None:
            p._p.style = self.ids[style]  # what `Paragraph.style = name` sets, found once
        return p

    def heading(self, text: str, level: int) -> Paragraph:
        return self.paragraph(text, "Title" if level == 0 else f"Heading {level}")

    def table(self, headers: tuple[str, ...]) -> Table:
        table = self.doc.add_table(rows=1, cols=len(headers))
        table._tbl.tblStyle_val = self.ids["Light Grid Accent 1"]  # as `Table.style = name` does
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(table.rows[0].cells, headers, strict=True):
            cell.text = text
        return table


def document_docx(brief: Brief, *, chart: bytes | None) -> bytes:
    """The .docx file's bytes."""
    doc = Document()
    styles = _Styles(doc)
    doc.styles["Normal"].font.size = Pt(10)
    doc.core_properties.title = brief.title
    doc.core_properties.author = "wgbot"
    styles.heading(brief.title, level=0)
    styles.paragraph(session_line(brief))
    styles.paragraph(generated_line(brief))
    f = brief.figures
    t = f.totals

    styles.heading("Context", level=1)
    for text in context_paragraphs(brief):
        styles.paragraph(text)

    styles.heading("Overview", level=1)
    styles.paragraph(f"{t.total} commitments: {t.done} done, {t.open} open ({t.overdue} overdue); "
                      f"{f.unlinked.total} of them not linked to a recommendation. A commitment "
                      "counts under every key area its recommendation serves.")

    styles.heading("Key areas", level=1)
    table = styles.table(AREA_COLUMNS)
    for a in brief.kb.key_areas:
        r = f.per_area[a.id].readiness
        _row(table, (f"{a.number}. {a.title}", str(r.done), str(r.open), str(r.overdue),
                     readiness_word(r)))

    styles.heading("Recommendations nobody has taken on", level=1)
    titles = {r.id: r.title for r in brief.kb.recommendations}
    if f.nobody:
        for rid in f.nobody:
            styles.paragraph(f"{rid} — {titles[rid]}", "List Bullet")
    else:
        styles.paragraph("None: every recommendation has at least one commitment.")

    if chart is not None:
        styles.heading("Charts", level=1)
        doc.add_picture(io.BytesIO(chart), width=Inches(5.5))

    for term, heading in (("short", "Short-term recommendations"),
                          ("long", "Long-term recommendations")):
        styles.heading(heading, level=1)
        for rb in (x for x in brief.recs if x.rec.term == term):
            styles.heading(f"{rb.rec.id} — {rb.rec.title}", level=2)
            styles.paragraph(rb.rec.text, "Quote")
            if rb.rows:
                table = styles.table(COLUMNS)
                for row in rb.rows:
                    _row(table, cells(row, brief.tz))
            if rb.more > 0:
                styles.paragraph(more_line(rb))
            p = styles.paragraph()
            p.add_run("Status: ").bold = True
            p.add_run(rec_status(rb.readiness))

    styles.heading("Commitments not linked to a recommendation", level=1)
    u = f.unlinked
    styles.paragraph(f"{u.done} done, {u.open} open, {u.overdue} overdue.")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _row(table, values: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    for cell, text in zip(table.add_row().cells, values, strict=True):
        cell.text = text
