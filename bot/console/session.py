"""`wgbot console`: chat with the bot locally, on SQLite, as a named Slack user (wired in bot.app)."""
from __future__ import annotations

import re
from typing import TextIO

from bot.console.render import printable, render
from bot.conversation import Caller, Conversation, Outcome
from bot.ports import Notifier

BANNER = """wgbot console — the working group on migration, without Slack.
Type /wg help (or just: recs short). /as U123 changes who you are; /quit leaves.
"""


def converse(conversation: Conversation, notifier: Notifier, *, as_user: str, stdin: TextIO,
             stdout: TextIO, interactive: bool) -> int:
    """Read commands (a prompt on a terminal, one per line otherwise) and print the replies."""
    if interactive:
        stdout.write(BANNER)
    user = as_user
    try:
        while True:
            if interactive:
                stdout.write(f"\n{user}> ")
                stdout.flush()
            line = stdin.readline()
            if not line:
                break
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if text in ("/quit", "/exit", "quit", "exit"):
                break
            if text.split(" ")[0].lower() == "/as":
                parts = text.split()
                if len(parts) == 2 and re.fullmatch(r"@?[UW][A-Z0-9]{2,}", parts[1].upper()):
                    user = parts[1].upper().lstrip("@")
                    stdout.write(f"You are now {printable(user)}.\n")
                else:
                    stdout.write("Usage: /as U123\n")
                continue
            if re.match(r"/?wg(?:\s|$)", text, flags=re.IGNORECASE):
                text = text.lstrip("/")[2:].strip()  # as Slack sends it: the words after /wg
            elif text.startswith("/"):
                stdout.write("Commands start with /wg (try /wg help).\n")
                continue
            if not interactive:
                stdout.write(f"\n{user}> /wg {printable(text.strip())}\n")
            outcome: Outcome = conversation.answer(Caller(user_id=user), text)
            stdout.write(render(outcome.reply, share=text.strip()) + "\n")
            for dm in outcome.messages:
                notifier.post(channel=dm.user_id, reply=dm.reply)
            for uid, attachment in outcome.uploads:
                notifier.upload(user_id=uid, attachment=attachment)
            stdout.flush()
    finally:
        stdout.flush()
    return 0
