"""Events API: App Home, and messages in the bot's DM (answered like `/wg`). A retried event
(X-Slack-Retry-Num) never repeats its effect."""
from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot.conversation import Caller
from bot.services import events as event_log
from bot.slack import render
from bot.slack.listeners import SlackDeps, deliver_followups, log
from bot.store.db import unit_of_work


def first_time(deps: SlackDeps, body: dict[str, Any]) -> bool:
    """Record the event id; False when it was already handled (a retry)."""
    event_id = str(body.get("event_id") or "")
    if not event_id:
        return True
    try:
        with unit_of_work(deps.sessions) as s:
            return event_log.claim(s, event_id=event_id, now=deps.clock.now())
    except IntegrityError:  # a concurrent retry of the same event won the race
        return False


def command_text(message: str) -> str:
    """What a member typed in the bot's DM, as `/wg` text (the `/wg` or `wg` is optional)."""
    text = message.strip()
    for prefix in ("/wg", "wg"):
        if text.lower() == prefix or text.lower().startswith(prefix + " "):
            return text[len(prefix):].strip()
    return text


def register(app: App, deps: SlackDeps) -> None:
    """Listen for app_home_opened and for members writing to the bot in its DM."""

    @app.event("message")
    def handle_direct_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") \
                or not event.get("user") or not first_time(deps, body):
            return
        user_id, channel = str(event["user"]), str(event.get("channel", ""))
        text = command_text(str(event.get("text") or ""))

        def answer() -> None:
            outcome = deps.conversation.answer(Caller(user_id=user_id), text)
            try:
                deps.notifier.post(channel=channel or user_id, reply=outcome.reply)
            except Exception:
                log.warning("could not answer %s in their DM", user_id, exc_info=True)
                return
            deliver_followups(deps, outcome)

        deps.later(answer)

    @app.event("app_home_opened")
    def handle_app_home_opened(body: dict[str, Any], event: dict[str, Any],
                               client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not first_time(deps, body):
            return
        user_id = str(event.get("user", ""))

        def publish() -> None:
            view = render.home_view(deps.conversation.home(user_id))
            client.views_publish(user_id=user_id, view=view)

        deps.later(publish)
