"""Events API: App Home. A retried event (X-Slack-Retry-Num) never repeats its effect."""
from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot.services import events as event_log
from bot.slack import render
from bot.slack.listeners import SlackDeps
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


def register(app: App, deps: SlackDeps) -> None:
    """Listen for app_home_opened."""

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
