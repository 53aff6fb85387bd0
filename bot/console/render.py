"""Replies → readable terminal text (buttons listed with the command that does the same)."""
from __future__ import annotations

import re
import textwrap

from bot.domain.reply import Actions, Button, Divider, Fields, Header, Note, Reply, Section

WIDTH = 88


def plain(mrkdwn: str) -> str:
    """Slack mrkdwn as plain text: mentions, links and entities readable, emphasis markers dropped."""
    text = re.sub(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>", lambda m: "@" + (m.group(2) or m.group(1)),
                  mrkdwn)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _wrap(text: str, indent: str = "", rest: str | None = None) -> str:
    lines = []
    for raw in plain(text).split("\n"):
        if raw.startswith(">"):
            raw = "│ " + raw[1:]
        lines.append(textwrap.fill(raw, WIDTH, initial_indent=indent,
                                   subsequent_indent=indent if rest is None else rest)
                     if raw.strip() else "")
    return "\n".join(lines)


def _button(b: Button) -> str:
    hint = f" → {b.command}" if b.command else ""
    return f"[{b.label}]{hint}"


def render(reply: Reply, *, share: str | None = None) -> str:
    """The reply as text."""
    out: list[str] = []
    for part in reply.parts:
        if isinstance(part, Header):
            out.append(plain(part.text).upper())
        elif isinstance(part, Section):
            out.append(_wrap(part.text))
            if part.button:
                out.append("  " + _button(part.button))
        elif isinstance(part, Fields):
            out.append("\n".join(_wrap(f.replace("\n", ": ", 1), "  ") for f in part.items))
        elif isinstance(part, Note):
            out.append(_wrap(part.text, "  · ", "    "))
        elif isinstance(part, Divider):
            out.append("─" * 40)
        elif isinstance(part, Actions):
            out.append("  " + "  ".join(_button(b) for b in part.buttons))
    if share and reply.shareable:
        out.append("  [Share in channel]")
    return "\n".join(out)
