"""The brief's files: the chart (PNG), the Word document for the Chair and a plain-text copy."""
from __future__ import annotations

from bot.domain.brief import Brief
from bot.domain.reply import Attachment


def brief_files(brief: Brief) -> tuple[Attachment, ...]:
    """PNG chart, .docx document and .txt copy, named after the generation date."""
    from bot.brief.charts import chart_png  # matplotlib and python-docx load on first use
    from bot.brief.document import document_docx
    from bot.brief.text import render

    stamp = f"{brief.generated_at.astimezone(brief.tz):%Y-%m-%d}"
    png = chart_png(brief)
    return (
        Attachment(filename=f"wg-brief-chart-{stamp}.png", title="Readiness chart", content=png),
        Attachment(filename=f"wg-brief-{stamp}.docx", title=brief.title,
                   content=document_docx(brief, chart=png),
                   comment="The brief for the Chair, ready to edit in Word."),
        Attachment(filename=f"wg-brief-{stamp}.txt", title="The brief as text",
                   content=render(brief).encode("utf-8")),
    )
