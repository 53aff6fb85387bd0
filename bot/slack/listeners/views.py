"""Modals and the message shortcut: Move submissions and Record as commitment."""
from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.conversation import Caller, apology
from bot.domain.dates import DateProblem
from bot.slack import render
from bot.slack.listeners import SlackDeps, deliver_followups, log
from bot.slack.views_build import (
    MOVE_CALLBACK,
    RECORD_CALLBACK,
    RECORD_SHORTCUT,
    record_modal,
    value_of,
)


def _due_words(values: dict[str, Any]) -> str:
    date = value_of(values, "due_date", "date") or ""
    time = value_of(values, "due_time", "time")
    return f"{date} {time}" if time else date


def register(app: App, deps: SlackDeps) -> None:
    """Listen for modal submissions and the message shortcut."""

    @app.view(MOVE_CALLBACK)
    def handle_move_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        values = (view.get("state") or {}).get("values") or {}
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            due = deps.conversation.check_due(user_id, _due_words(values))
            if isinstance(due, DateProblem):
                ack(response_action="errors", errors={"due_date": _plain(due.message)})
                return
            outcome = deps.conversation.move_to(
                Caller(user_id, request_id=body.get("trigger_id") or None), int(meta["id"]),
                due.words, origin=str(meta.get("origin", "none")), due=due)
            problem = outcome.reply.text if not outcome.changed else None
            if problem:
                ack(response_action="errors", errors={"due_date": _plain(problem)[:150]})
                return
            ack()
        except Exception:
            ack(response_action="errors",
                errors={"due_date": _plain(apology(log, "move modal").text)[:150]})
            return
        url = meta.get("response_url")

        def after() -> None:
            if url:
                _respond(url, replace=outcome.reply.replace_original,
                         payload=render.message(outcome.reply))
            else:
                deps.notifier.post(channel=user_id, reply=outcome.reply)
            deliver_followups(deps, outcome)

        deps.later(after)

    @app.shortcut(RECORD_SHORTCUT)
    def handle_record_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        deps.later(lambda: _open_record(body, client))

    def _open_record(body: dict[str, Any], client: WebClient) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        message = body.get("message") or {}
        meta = json.dumps({"channel": (body.get("channel") or {}).get("id"),
                           "ts": message.get("ts")})
        client.views_open(trigger_id=body["trigger_id"], view=record_modal(
            kb=deps.conversation.config.knowledge, text=str(message.get("text") or ""),
            owner_id=user_id, private_metadata=meta))

    @app.view(RECORD_CALLBACK)
    def handle_record_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        values = (view.get("state") or {}).get("values") or {}
        try:
            what = (value_of(values, "what", "text") or "").strip()
            if not what:
                ack(response_action="errors", errors={"what": "Tell me what is committed."})
                return
            due = deps.conversation.check_due(user_id, _due_words(values))
            if isinstance(due, DateProblem):
                ack(response_action="errors", errors={"due_date": _plain(due.message)[:150]})
                return
            outcome = deps.conversation.record(
                Caller(user_id, request_id=body.get("trigger_id") or None), what=what, due=due,
                owner_id=value_of(values, "owner", "user"), rec_id=value_of(values, "rec", "rec"))
            if not outcome.changed:
                ack(response_action="errors", errors={"what": _plain(outcome.reply.text)[:150]})
                return
            ack()
        except Exception:
            ack(response_action="errors", errors={"what": _plain(apology(log, "record modal").text)[:150]})
            return
        def after() -> None:
            deps.notifier.post(channel=user_id, reply=outcome.reply)
            deliver_followups(deps, outcome)

        deps.later(after)


def _plain(text: str) -> str:
    return text.replace("*", "").replace("`", "")


def _respond(url: str, *, replace: bool, payload: dict[str, Any]) -> None:
    """POST to a response_url (the message the Move button sat on)."""
    body = {**payload, "replace_original": replace}
    if not replace:
        body["response_type"] = "ephemeral"
    try:
        WebhookClient(url, timeout=10).send_dict(body)
    except Exception:
        log.warning("response_url post failed", exc_info=True)
