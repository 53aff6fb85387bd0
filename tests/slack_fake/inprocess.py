"""The bot's Bolt app in this process: signed requests dispatched straight into it.

Like bolt-python's own scenario tests (``app.dispatch(BoltRequest(body=..., headers=...))``):
the request is signed and verified exactly as over HTTP, every listener and the real database
run, and the bot's Web API calls go to the fake Slack. Only the HTTP server is left out, so use
this where the process is not the subject of the test.

    with InProcessBot(fake=fake, config_dir=config_dir, database_url=url) as bot:
        body = bot.client.command("recs search youth").json()
"""
from __future__ import annotations

import contextvars
import json
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from slack_bolt.request import BoltRequest
from sqlalchemy import Engine

from bot.app import _slack
from bot.clock import Clock, SystemClock
from bot.settings import Settings

from .client import SlackClient
from .process import BOT_TOKEN, DEFAULT_SIGNING_SECRET
from .server import FakeSlack


class DispatchResponse:
    """What the app answered, shaped like the parts of requests.Response the tests use."""

    def __init__(self, status: int, body: str, headers: dict[str, Any]) -> None:
        self.status_code = status
        self.text = body
        self.headers = headers

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.text)


class InProcessClient(SlackClient):
    """A SlackClient whose requests go to ``app.dispatch`` instead of over the network."""

    def __init__(self, app: Any, signing_secret: str, *, fake: FakeSlack) -> None:
        super().__init__("http://in-process", signing_secret, response_urls=fake.response_url)
        self._app = app

    def post(self, body: bytes, *, content_type: str, headers: Any = None, age: int = 0,
             bad_signature: bool = False, unsigned: bool = False,
             timeout: float | None = None) -> DispatchResponse:  # type: ignore[override]
        """Sign the body as Slack does and dispatch it into the Bolt app."""
        all_headers = self.signed_headers(body, content_type=content_type, age=age,
                                          bad_signature=bad_signature, unsigned=unsigned)
        all_headers.update(headers or {})
        self.last_body = body
        request = BoltRequest(body=body.decode("utf-8"),
                              headers={k.lower(): [v] for k, v in all_headers.items()})
        # A server handles each request in a context of its own: what the request sets in
        # context variables (the bot's lock budget) must not outlive it into the test.
        response = contextvars.copy_context().run(self._app.dispatch, request)
        return DispatchResponse(response.status, response.body or "",
                                {k: v for k, v in response.headers.items()})


class InProcessBot:
    """build_slack() against the fake Slack, a real database and a copy of the config.

    With `engine` (the caller's, kept after the bot closes) the bot works on it instead of
    making its own.
    """

    def __init__(self, *, fake: FakeSlack, config_dir: Path, database_url: str,
                 clock: Clock | None = None, signing_secret: str = DEFAULT_SIGNING_SECRET,
                 engine: Engine | None = None) -> None:
        settings = Settings.from_env({
            "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": signing_secret,
            "SLACK_API_URL": fake.url, "DATABASE_URL": database_url,
            "WGBOT_CONFIG_DIR": str(config_dir)})
        self.fake = fake
        self._own_engine = engine is None
        self.app, self.core, self._after = _slack(
            settings, clock=clock or SystemClock(), config=None, process_before_response=True,
            upgrade=True, holder="web", engine=engine)
        self.client = InProcessClient(self.app, signing_secret, fake=fake)

    def sweep(self, after: timedelta = timedelta(minutes=2)) -> None:
        """Move the (fixed) clock on and run one reminder sweep, as the scheduler would: owner
        notices and reminders that fell due in the meantime go out to the fake Slack."""
        from bot.scheduling.sweep import Sweeper
        from bot.slack.web import SlackNotifier, make_client

        self.core.clock.advance(after)  # type: ignore[attr-defined]
        notifier = SlackNotifier(make_client(token=BOT_TOKEN, base_url=self.fake.url))
        Sweeper(config=self.core.config, sessions=self.core.sessions, clock=self.core.clock,
                notifier=notifier, holder="in-process").run_once()

    def close(self) -> None:
        """Let the work after each answer finish, then release the database (unless the
        engine is the caller's)."""
        self._after.shutdown(wait=True)
        if self._own_engine:
            self.core.close()

    def __enter__(self) -> Self:
        """Nothing to start: the app is built."""
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Release the database."""
        self.close()
