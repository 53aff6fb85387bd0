"""Secrets pasted into config files: found for a warning, and hidden wherever config text is shown."""
from __future__ import annotations

import re

# Slack tokens (bot xoxb-, user xoxp-, app-level xapp-, refresh xoxe-/xoxe.xoxp-, legacy
# xoxa-/xoxr-/xoxs-) and 32-hex strings such as a signing secret. A run of hex digits cut
# short by "..." (a long value shortened for a message) counts too, so no part of one shows.
TOKEN_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:xox[a-eprs](?:\.xox[a-eprs])?-|xapp-)[A-Za-z0-9-]*"
    r"|(?<![A-Za-z0-9])[0-9a-fA-F]{32}(?![A-Za-z0-9])"
    r"|(?<![A-Za-z0-9])[0-9a-fA-F]{8,31}(?=\.\.\.|…)")

_PREFIX_RE = re.compile(r"xox[a-eprs](?:\.xox[a-eprs])?-|xapp-")


def looks_secret(text: str) -> bool:
    """True when text holds something that looks like a Slack token or signing secret."""
    return TOKEN_RE.search(text) is not None


def redact(text: str) -> str:
    """text with every token-like value replaced by its kind: ``xoxb-[hidden]``, ``[hidden]``."""
    def hide(m: re.Match[str]) -> str:
        prefix = _PREFIX_RE.match(m.group(0))
        return f"{prefix.group(0)}[hidden]" if prefix else "[hidden]"

    return TOKEN_RE.sub(hide, text)
