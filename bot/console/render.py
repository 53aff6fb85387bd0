"""Replies → readable terminal text (buttons listed with the command that does the same).

User text is shown as typed: only the bot's own Mrkdwn has mentions, links and entities to turn
into words. Control characters (say, a terminal escape sequence in a stored text) are never
printed.
"""
from __future__ import annotations

import re
import textwrap

from bot.domain.reply import Actions, Button, Divider, Fields, Header, Mrkdwn, Note, Reply, Section

WIDTH = 88
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CODE = re.compile(r"`[^`\n]+`")
# Inside a `code` span, spaces and hyphens are held as control characters while a line is
# wrapped (printable() has removed any from the text), so no line breaks inside the span.
_HOLD = str.maketrans({" ": "\x00", "-": "\x01"})
_RELEASE = str.maketrans({"\x00": " ", "\x01": "-"})


def plain(text: str) -> str:
    """Reply text for a terminal: emphasis markers dropped; the bot's mentions and links readable."""
    if isinstance(text, Mrkdwn):
        out = re.sub(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>",
                     lambda m: "@" + (m.group(2) or m.group(1)), text)
        out = re.sub(r"<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>",
                     lambda m: "#" + (m.group(2) or m.group(1)), out)
        out = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", out)
    else:
        out = str(text)
    out = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", out)
    out = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", out)
    if isinstance(text, Mrkdwn):
        out = out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return printable(out)


def printable(text: str) -> str:
    """Text without control characters, so nothing typed or stored can drive the terminal."""
    return _CONTROL.sub("", text)


def _wrap(text: str, indent: str = "", rest: str | None = None) -> str:
    """Lines of at most WIDTH characters, never broken inside a `code` span (a longer span
    stays whole on a line of its own)."""
    lines = []
    for raw in text.split("\n"):
        if raw.startswith(">"):
            raw = "│ " + raw[1:]
        raw = _CODE.sub(lambda m: m.group().translate(_HOLD), raw)
        lines.append(textwrap.fill(raw, WIDTH, initial_indent=indent, break_long_words=False,
                                   subsequent_indent=indent if rest is None else rest
                                   ).translate(_RELEASE)
                     if raw.strip() else "")
    return "\n".join(lines)


def _button(b: Button) -> str:
    hint = f" → {plain(b.command)}" if b.command else ""
    return f"[{plain(b.label)}]{hint}"


def render(reply: Reply, *, share: str | None = None) -> str:
    """The reply as text."""
    out: list[str] = []
    for part in reply.parts:
        if isinstance(part, Header):
            out.append(plain(part.text).upper())
        elif isinstance(part, Section):
            out.append(_wrap(plain(part.text)))
            if part.button:
                out.append("  " + _button(part.button))
        elif isinstance(part, Fields):
            out.append("\n".join(_wrap(plain(f).replace("\n", ": ", 1), "  ") for f in part.items))
        elif isinstance(part, Note):
            out.append(_wrap(plain(part.text), "  · ", "    "))
        elif isinstance(part, Divider):
            out.append("─" * 40)
        elif isinstance(part, Actions):
            out.append("  " + "  ".join(_button(b) for b in part.buttons))
    if share and reply.shareable:
        out.append("  [Share in channel]")
    return "\n".join(out)
