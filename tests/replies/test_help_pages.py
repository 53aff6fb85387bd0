"""`/wg help <command>` has a page with three examples for each command that changes a commitment."""
from __future__ import annotations

import pytest

from bot.domain.reply import Section
from bot.replies import help as help_replies


@pytest.mark.parametrize("verb", ["edit", "assign", "link", "unlink", "note", "find", "move"])
def test_each_command_has_its_own_page_with_three_examples(verb: str) -> None:
    page = help_replies.page(verb)
    assert page is not None and page.text == f"How to use /wg {verb}"
    examples = next(str(p.text) for p in page.parts
                    if isinstance(p, Section) and str(p.text).startswith("*Examples*"))
    assert len(examples.splitlines()) == 4
    assert f"/wg {verb}" in examples or verb == "unlink"


def test_the_usage_names_the_new_commands() -> None:
    text = " ".join(str(getattr(p, "text", "")) for p in help_replies.usage(role="member").parts)
    for command in ("/wg edit", "/wg assign", "/wg link", "/wg note", "/wg find"):
        assert command in text
