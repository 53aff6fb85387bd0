"""The report's prose as numbered passages, each with its place ("The Way Forward…, paragraph 2").

Pure functions over the report's text; the recommendations' bullets are left out (they are indexed
as recommendations). A paragraph that the report's layout broke across a blank line ("…international
co-" / "operation.") is joined again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

INTRODUCTION = "Introduction"
_END = re.compile(r"[.!?:;”\")]$")
_RECOMMENDATIONS = re.compile(r"^Recommendations for the OSCE", re.IGNORECASE)


@dataclass(frozen=True)
class Passage:
    """One paragraph of the report and where it stands."""

    section: str
    number: int
    text: str

    @property
    def place(self) -> str:
        """Where to find it: the section's short heading and the paragraph's number under it."""
        return f"{self.section.partition(':')[0]}, paragraph {self.number}"


def _is_heading(block: str) -> bool:
    return "\n" not in block and len(block) < 120 and not _END.search(block) \
        and block[:1].isupper()


def _blocks(text: str) -> list[str]:
    """Blank-line separated blocks, single-spaced, with paragraphs broken by the layout rejoined."""
    raw = [" ".join(b.split()) for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    out: list[str] = []
    for block in (b for b in raw if b):
        if out and not _END.search(out[-1]) and not _is_heading(out[-1]) and block[:1].islower():
            out[-1] = out[-1] + block if out[-1].endswith("-") else f"{out[-1]} {block}"
        else:
            out.append(block)
    return out


def passages_of(report: str) -> tuple[Passage, ...]:
    """Every prose paragraph of the report, in order, numbered within its section."""
    blocks = _blocks(report)
    # The title block ends at the line that says "Report"; prose starts after it.
    start = next((i + 1 for i, b in enumerate(blocks) if b.strip("*").strip() == "Report"), 0)
    out: list[Passage] = []
    section, number = INTRODUCTION, 0
    for block in blocks[start:]:
        if _RECOMMENDATIONS.match(block):
            break
        if _is_heading(block):
            section, number = block, 0
            continue
        number += 1
        out.append(Passage(section=section, number=number, text=block))
    return tuple(out)
