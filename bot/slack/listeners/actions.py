"""Buttons: Done, Cancel, Reopen, paging, neighbours, Share in channel, and Move and Edit (each
opens a modal)."""
from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.conversation import Caller, apology
from bot.domain.reply import EditForm, MoveForm
from bot.domain import values
from bot.domain.reply import Note, Reply, md, mention
from bot.replies import help as help_replies
from bot.slack import render
from bot.slack.listeners import SlackDeps, deliver_followups, log
from bot.slack.views_build import edit_modal, move_modal

ACTIONS = re.compile(r"^wg_(done|cancel|reopen|snooze_tomorrow|snooze_week|page|rec_previous|"
                     r"rec_next|record_anyway|show|session_date|link)$")


def _caller(body: dict[str, Any]) -> Caller:
    return Caller(user_id=str((body.get("user") or {}).get("id", "")),
                  request_id=body.get("trigger_id") or None)


# complexity: counts the nested listeners it registers, each small
def register(app: App, deps: SlackDeps) -> None:  # noqa: C901
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
        """Re-render a read-only reply (recs, session, help) in the channel; never run a command."""
        caller = _caller(body)
        try:
            query = values.parse_share(str(action.get("value") or ""))
            reply = deps.conversation.shared(caller, query).reply if query is not None \
                else help_replies.not_shareable()
            if not reply.shareable:  # a refusal, or e.g. a recommendation that no longer exists
                respond(response_type="ephemeral", replace_original=False, **render.message(reply))
                return
            shared = Reply(parts=(*reply.parts, Note(md("Shared by {}", mention(caller.user_id)))),
                           text=reply.text)
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
        target = values.parse_target(str(action.get("value") or ""))
        try:
            form = deps.conversation.move_form(caller, target.commitment_id) if target else None
            if not isinstance(form, MoveForm) or target is None:
                reply = form if isinstance(form, Reply) else help_replies.out_of_date()
                respond(response_type="ephemeral", replace_original=False, **render.message(reply))
                return
            meta = values.move_metadata(values.MoveMetadata(
                target.commitment_id, target.origin, str(body.get("response_url") or "") or None))
            client.views_open(trigger_id=body["trigger_id"], view=move_modal(form, meta))
        except Exception:
            respond(response_type="ephemeral", replace_original=False,
                    **render.message(apology(log, "move button")))

    @app.action("wg_edit")
    def handle_edit_button(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                           client: WebClient, respond: Respond) -> None:
        ack()
        deps.later(lambda: _open_edit(body, action, client, respond))

    def _open_edit(body: dict[str, Any], action: dict[str, Any], client: WebClient,
                   respond: Respond) -> None:
        caller = _caller(body)
        target = values.parse_target(str(action.get("value") or ""))
        try:
            form = deps.conversation.edit_form(caller, target.commitment_id) if target else None
            if not isinstance(form, EditForm) or target is None:
                reply = form if isinstance(form, Reply) else help_replies.out_of_date()
                respond(response_type="ephemeral", replace_original=False, **render.message(reply))
                return
            meta = values.move_metadata(values.MoveMetadata(
                target.commitment_id, target.origin, str(body.get("response_url") or "") or None))
            client.views_open(trigger_id=body["trigger_id"], view=edit_modal(
                form, kb=deps.conversation.config.knowledge, private_metadata=meta))
        except Exception:
            respond(response_type="ephemeral", replace_original=False,
                    **render.message(apology(log, "edit button")))
