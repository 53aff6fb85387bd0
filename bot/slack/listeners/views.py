"""Modals and the message shortcut: Move and Edit submissions, and Record as commitment."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.conversation import Caller, Outcome, apology
from bot.domain.reply import FormProblems
from bot.domain import grammar, values
from bot.domain.dates import DateProblem, DueDate
from bot.slack import render
from bot.slack.listeners import SlackDeps, deliver_followups, log
from bot.slack.views_build import (
    EDIT_CALLBACK,
    MOVE_CALLBACK,
    RECORD_CALLBACK,
    RECORD_SHORTCUT,
    record_modal,
    value_of,
    values_of,
)


# Where Slack's response_urls point (the Web API's own host is added: GovSlack, the tests).
HOOKS_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
PICK_A_DATE = "Pick a date from the calendar (and a time, if you like)."
# The Edit modal's inputs, by the field names the conversation reports problems under.
EDIT_BLOCKS = {"text": "what", "owners": "owners", "due": "due_date", "recs": "recs"}


def _picked_due(deps: SlackDeps, user_id: str, state: dict[str, Any]) -> DueDate | DateProblem:
    """The deadline picked in a modal, read in the user's timezone; pickers only give dates."""
    words = values.picked_due(value_of(state, "due_date", "date"),
                              value_of(state, "due_time", "time"))
    if words is None:
        return DateProblem(words="", message=PICK_A_DATE)
    return deps.conversation.check_due(user_id, words)


def _hooks_hosts(client: WebClient) -> frozenset[str]:
    return HOOKS_HOSTS | {urlsplit(client.base_url).netloc}


def _error(text: str) -> str:
    """A reply text for an input's error line: escaped, no emphasis marks, short."""
    return _plain(render.slack_text(text, 150))


# complexity: counts the nested listeners it registers, each small
def register(app: App, deps: SlackDeps) -> None:  # noqa: C901
    """Listen for modal submissions and the message shortcut."""

    @app.view(MOVE_CALLBACK)
    def handle_move_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                               client: WebClient) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        state = (view.get("state") or {}).get("values") or {}
        try:
            meta = values.parse_move_metadata(str(view.get("private_metadata") or ""),
                                              hooks_hosts=_hooks_hosts(client))
            if meta is None:
                ack(response_action="errors", errors={"due_date": _error(
                    "This form is out of date, so nothing was changed; close it and press Move "
                    "again.")})
                return
            due = _picked_due(deps, user_id, state)
            if isinstance(due, DateProblem):
                ack(response_action="errors", errors={"due_date": _error(due.message)})
                return
            outcome = deps.conversation.move_to(
                Caller(user_id, request_id=body.get("trigger_id") or None), meta.commitment_id,
                due.words, origin=meta.origin, due=due)
            if not outcome.changed:
                ack(response_action="errors", errors={"due_date": _error(outcome.reply.text)})
                return
            ack()
        except Exception:
            ack(response_action="errors", errors={"due_date": _error(apology(log, "move modal").text)})
            return
        deps.later(lambda: _answer_form(deps, user_id, meta.response_url, outcome))

    @app.view(EDIT_CALLBACK)
    def handle_edit_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                               client: WebClient) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        state = (view.get("state") or {}).get("values") or {}
        try:
            meta = values.parse_move_metadata(str(view.get("private_metadata") or ""),
                                              hooks_hosts=_hooks_hosts(client))
            if meta is None:
                ack(response_action="errors", errors={"what": _error(
                    "This form is out of date, so nothing was changed; close it and press Edit "
                    "again.")})
                return
            result = deps.conversation.edit(
                Caller(user_id, request_id=body.get("trigger_id") or None), meta.commitment_id,
                text=value_of(state, "what", "text") or "",
                owner_ids=values.picked_users(values_of(state, "owners", "users")),
                due=_picked_due(deps, user_id, state),
                rec_ids=values.picked_recs(values_of(state, "recs", "recs")), origin=meta.origin)
            if isinstance(result, FormProblems):
                ack(response_action="errors", errors={
                    EDIT_BLOCKS[name]: _error(problem) for name, problem in result.fields.items()})
                return
            if not result.changed:
                ack(response_action="errors", errors={"what": _error(result.reply.text)})
                return
            ack()
        except Exception:
            ack(response_action="errors", errors={"what": _error(apology(log, "edit modal").text)})
            return
        deps.later(lambda: _answer_form(deps, user_id, meta.response_url, result))

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
        state = (view.get("state") or {}).get("values") or {}
        try:
            errors: dict[str, str] = {}
            what = grammar.clean(value_of(state, "what", "text") or "")
            if not what:
                errors["what"] = "Tell me what is committed."
            picked_owner = value_of(state, "owner", "user")
            owner = values.user_id(picked_owner)
            if picked_owner and owner is None:
                errors["owner"] = "Pick a person from the list."
            picked_rec = value_of(state, "rec", "rec")
            rec = values.parse_rec(picked_rec)
            if picked_rec and rec is None:
                errors["rec"] = "Pick a recommendation from the list."
            due = _picked_due(deps, user_id, state)
            if isinstance(due, DateProblem):
                errors["due_date"] = _error(due.message)
            if errors or isinstance(due, DateProblem):
                ack(response_action="errors", errors=errors)
                return
            caller = Caller(user_id, request_id=body.get("trigger_id") or None)
            outcome = deps.conversation.record(caller, what=what, due=due, owner_id=owner,
                                               rec_id=rec)
            if not outcome.changed:
                ack(response_action="errors", errors={"what": _error(outcome.reply.text)})
                return
            ack()
        except Exception:
            ack(response_action="errors", errors={"what": _error(apology(log, "record modal").text)})
            return
        def after() -> None:
            deps.notifier.post(channel=user_id, reply=outcome.reply)
            deliver_followups(deps, outcome)

        deps.later(after)


def _plain(text: str) -> str:
    return text.replace("*", "").replace("`", "")


def _answer_form(deps: SlackDeps, user_id: str, url: str | None, outcome: Outcome) -> None:
    """After a form was accepted: redraw the message its button sat on (or DM the answer when
    there is none), then the outcome's follow-ups."""
    if url:
        _respond(url, replace=outcome.reply.replace_original,
                 payload=render.message(outcome.reply))
    else:
        deps.notifier.post(channel=user_id, reply=outcome.reply)
    deliver_followups(deps, outcome)


def _respond(url: str, *, replace: bool, payload: dict[str, Any]) -> None:
    """POST to a response_url (the message the Move button sat on)."""
    body = {**payload, "replace_original": replace}
    if not replace:
        body["response_type"] = "ephemeral"
    try:
        WebhookClient(url, timeout=10).send_dict(body)
    except Exception:
        log.warning("response_url post failed", exc_info=True)
