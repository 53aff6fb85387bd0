"""The `/wg` slash command: ack with the reply itself, then send any follow-ups."""
from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.conversation import Caller, apology
from bot.slack import render
from bot.slack.listeners import SlackDeps, deliver_followups, log


def register(app: App, deps: SlackDeps) -> None:
    """Listen for /wg."""

    @app.command("/wg")
    def handle_wg_command(ack: Ack, command: dict[str, Any]) -> None:
        text = str(command.get("text") or "")
        try:
            caller = Caller(user_id=str(command.get("user_id", "")),
                            request_id=command.get("trigger_id") or None)
            outcome = deps.conversation.answer(caller, text)
            ack(response_type="ephemeral", **render.message(outcome.reply, share=text.strip()))
        except Exception:
            ack(response_type="ephemeral", **render.message(apology(log, f"/wg {text[:200]!r}")))
            return
        if outcome.messages or outcome.uploads:
            deps.later(lambda: deliver_followups(deps, outcome))
