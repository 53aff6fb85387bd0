"""Bolt listeners, one module per Slack surface, registered explicitly."""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.conversation import Conversation, Outcome
from bot.slack.web import SlackNotifier
from bot.store.db import request_budget

log = logging.getLogger("wgbot.slack")

# Slack shows the user an error when the answer takes over 3 s. A request waits at most this long,
# in all, for another writer's database lock; then it answers "busy, nothing was recorded".
REQUEST_LOCK_BUDGET = 2.0


@dataclass(frozen=True)
class SlackDeps:
    """What the listeners need."""

    conversation: Conversation
    notifier: SlackNotifier
    sessions: sessionmaker[Session]
    clock: Clock
    executor: Executor

    def later(self, task: Callable[[], None]) -> None:
        """Run a task after the HTTP response (Bolt runs with process_before_response=True)."""

        def run() -> None:
            try:
                task()
            except Exception:
                log.exception("follow-up task failed")

        self.executor.submit(run)


def deliver_followups(deps: SlackDeps, outcome: Outcome) -> None:
    """Send an outcome's DMs and files after the reply; a failure is logged, never shown as an error."""
    for dm in outcome.messages:
        try:
            deps.notifier.post(channel=dm.user_id, reply=dm.reply)
        except Exception:
            log.warning("could not DM %s", dm.user_id, exc_info=True)
    for user_id, attachment in outcome.uploads:
        try:
            deps.notifier.upload(user_id=user_id, attachment=attachment)
        except Exception:
            log.warning("could not upload %s to %s", attachment.filename, user_id, exc_info=True)


class BudgetedApp(App):
    """A Bolt app whose requests wait at most REQUEST_LOCK_BUDGET in all for a database lock.

    Bolt runs middleware and listeners inside dispatch(), in the request's thread, so the budget
    covers every unit of work the request opens there and ends with the request; follow-ups on
    the executor have none. (A middleware could only set it, never end it: Bolt calls the
    listeners after the middleware has returned.)
    """

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        """Handle one request inside the lock budget."""
        with request_budget(REQUEST_LOCK_BUDGET):
            return super().dispatch(req)


def make_app(client: WebClient, *, signing_secret: str | None, process_before_response: bool,
             deps: SlackDeps) -> App:
    """The Bolt app over this client with every listener attached (no secret: requests unchecked)."""
    kwargs: dict[str, Any] = {}
    if signing_secret is None:
        kwargs["request_verification_enabled"] = False
    # A name of its own: without one, Bolt reads the whole call stack (inspect.stack()) to name
    # the app after the caller's file, which costs tens of milliseconds on a deep stack.
    app = BudgetedApp(name="wgbot", signing_secret=signing_secret or "", client=client,
                      token_verification_enabled=False,
                      process_before_response=process_before_response,
                      logger=logging.getLogger("wgbot.bolt"), **kwargs)
    register(app, deps)
    return app


def register(app: App, deps: SlackDeps) -> None:
    """Attach every listener to the app."""
    from bot.slack.listeners import actions, commands, events, views

    commands.register(app, deps)
    actions.register(app, deps)
    views.register(app, deps)
    events.register(app, deps)
