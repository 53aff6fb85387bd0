"""Buttons: Done, Cancel, Reopen, paging, neighbours, Share in channel, and Move (opens a modal)."""
from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.conversation import Caller, apology
from bot.domain.reply import Note, Reply, md, mention
from bot.slack import render
from bot.slack.listeners import SlackDeps, deliver_followups, log
from bot.slack.views_build import move_modal

ACTIONS = re.compile(r"^wg_(done|cancel|reopen|page|rec_previous|rec_next)$")


def _caller(body: dict[str, Any]) -> Caller:
    channel = (body.get("channel") or {}).get("id")
    return Caller(user_id=str((body.get("user") or {}).get("id", "")), channel_id=channel)


def register(app: App, deps: SlackDeps) -> None:
    """Listen for the bot's buttons."""

    @app.action(ACTIONS)
    def handle_commitment_button(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                                 respond: Respond) -> None:
        ack()
        deps.later(lambda: _press(body, action, respond))

    def _press(body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        try:
            outcome = deps.conversation.act(_caller(body), str(action.get("action_id")),
                                            str(action.get("value") or ""))
            reply = outcome.reply
            if reply.replace_original:
                respond(replace_original=True, **render.message(reply))
            else:
                respond(response_type="ephemeral", replace_original=False, **render.message(reply))
        except Exception:
            respond(response_type="ephemeral", replace_original=False,
                    **render.message(apology(log, f"button {action.get('action_id')}")))
            return
        deliver_followups(deps, outcome)

    @app.action("wg_share")
    def handle_share_button(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                            respond: Respond) -> None:
        ack()
        deps.later(lambda: _share(body, action, respond))

    def _share(body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        caller = _caller(body)
        try:
            outcome = deps.conversation.answer(caller, str(action.get("value") or ""))
            shared = Reply(parts=(*outcome.reply.parts, Note(md("Shared by {}", mention(caller.user_id)))),
                           text=outcome.reply.text, ephemeral=False)
            respond(response_type="in_channel", replace_original=False, **render.message(shared))
        except Exception:
            respond(response_type="ephemeral", replace_original=False,
                    **render.message(apology(log, "share")))

    @app.action("wg_move")
    def handle_move_button(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                           client: WebClient, respond: Respond) -> None:
        ack()
        deps.later(lambda: _open_move(body, action, client, respond))

    def _open_move(body: dict[str, Any], action: dict[str, Any], client: WebClient,
                   respond: Respond) -> None:
        caller = _caller(body)
        raw_id, _, origin = str(action.get("value") or "").partition("|")
        try:
            form = deps.conversation.move_form(caller, int(raw_id)) if raw_id.isdigit() else None
            if form is None or isinstance(form, Reply):
                reply = form if isinstance(form, Reply) else None
                if reply is None:
                    from bot.domain.reply import simple
                    reply = simple("That button is out of date; try `/wg list`.")
                respond(response_type="ephemeral", replace_original=False, **render.message(reply))
                return
            meta = json.dumps({"id": int(raw_id), "origin": origin or "none",
                               "response_url": body.get("response_url", "")})
            client.views_open(trigger_id=body["trigger_id"], view=move_modal(form, meta))
        except Exception:
            respond(response_type="ephemeral", replace_original=False,
                    **render.message(apology(log, "move button")))
