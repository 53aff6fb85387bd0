"""Composition root: the only place that builds engines, clients, the Bolt app and the scheduler."""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.config.live import LiveConfig
from bot.conversation import Conversation
from bot.operations import RunningOperations
from bot.ports import Notifier
from bot.services.members import Directory
from bot.settings import Settings
from bot.store import migrate
from bot.store.db import is_sqlite, make_engine, make_session_factory, unit_of_work

log = logging.getLogger("wgbot")


@dataclass
class Core:
    """Everything below the Slack edge: config, database, clock, conversation, operations."""

    settings: Settings
    config: LiveConfig
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    notifier: Notifier
    conversation: Conversation
    operations: RunningOperations

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def open_database(settings: Settings, *, upgrade: bool | None = None) -> Engine:
    """An engine for DATABASE_URL; SQLite databases are upgraded to the newest schema on start."""
    engine = make_engine(settings.database_url)
    if upgrade if upgrade is not None else is_sqlite(settings.database_url):
        migrate.upgrade(settings.database_url)
    return engine


def build_core(settings: Settings, *, clock: Clock, notifier: Notifier, directory: Directory,
               config: LiveConfig | None = None, engine: Engine | None = None,
               upgrade: bool | None = None) -> Core:
    """Wire the core from its parts (tests pass their own)."""
    config = config or LiveConfig(settings.config_dir, clock, settings.config_snapshot)
    engine = engine or open_database(settings, upgrade=upgrade)
    sessions = make_session_factory(engine)
    operations = RunningOperations(config=config, sessions=sessions, clock=clock,
                                   notifier=notifier)
    conversation = Conversation(config=config, sessions=sessions, clock=clock, directory=directory,
                                operations=operations)
    return Core(settings=settings, config=config, engine=engine, sessions=sessions, clock=clock,
                notifier=notifier, conversation=conversation, operations=operations)


def build_slack(settings: Settings, *, clock: Clock, config: LiveConfig | None = None,
                process_before_response: bool = True, upgrade: bool | None = None
                ) -> tuple[App, Core]:
    """The Bolt app with every listener registered, and the core behind it."""
    from bot.slack.listeners import BudgetedApp, SlackDeps, register
    from bot.slack.web import SlackDirectory, SlackNotifier, make_client

    client = make_client(token=settings.bot_token, base_url=settings.slack_api_url,
                         timeout=settings.slack_timeout)
    notifier = SlackNotifier(client)
    core = build_core(settings, clock=clock, notifier=notifier, directory=SlackDirectory(client),
                      config=config, upgrade=upgrade)
    kwargs: dict[str, Any] = {}
    if settings.signing_secret is None:
        kwargs["request_verification_enabled"] = False
    app = BudgetedApp(signing_secret=settings.signing_secret or "", client=client,
                      token_verification_enabled=False,
                      process_before_response=process_before_response,
                      logger=logging.getLogger("wgbot.bolt"), **kwargs)
    # process_before_response: Bolt answers Slack as soon as the listener returns, without its
    # 10 ms ack polling; whatever may take longer than the reply goes to this executor.
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="wgbot-after")
    register(app, SlackDeps(conversation=core.conversation, notifier=notifier,
                            sessions=core.sessions, clock=clock, executor=executor))
    return app, core


def serving_health(core: Core, *, started_at: datetime, supervised: bool
                   ) -> Callable[[], tuple[bool, dict[str, Any]]]:
    """/healthz: the database answers, and (when this server runs it) the scheduler sweeps."""
    from bot.scheduling.health import judge
    from bot.services.health import last_sweep_completed

    def check() -> tuple[bool, dict[str, Any]]:
        try:
            with unit_of_work(core.sessions, read_only=True) as s:
                last = last_sweep_completed(s)
        except Exception:
            return False, {"ok": False, "database": "unavailable"}
        health = judge(last_sweep=last, now=core.clock.now(), started_at=started_at,
                       poll_seconds=core.config.current().poll_seconds, supervised=supervised)
        return health.healthy, {"ok": health.healthy, "database": "ok",
                                "scheduler": health.report()}

    return check
