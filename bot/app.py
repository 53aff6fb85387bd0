"""Composition root: the only place that builds engines, clients, the Bolt app and the scheduler."""
from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock, process_clock
from bot.config.live import LiveConfig
from bot.operations import RunningOperations
from bot.ports import Directory, Notifier
from bot.scheduling.health import lease_seconds
from bot.scheduling.scheduler import Lease, ReminderScheduler, holder_id
from bot.scheduling.sweep import Sweeper
from bot.services.health import record_sweep_completed
from bot.settings import Settings
from bot.store import migrate
from bot.store.db import is_sqlite, make_engine, make_session_factory, unit_of_work

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.conversation import Conversation

log = logging.getLogger("wgbot")


@dataclass
class Core:
    """Everything below the Slack edge: config, database, clock, conversation, operations.

    The conversation is built (and its modules imported) when first asked for: `wgbot clock`
    answers nothing and never asks."""

    settings: Settings
    config: LiveConfig
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    notifier: Notifier
    directory: Directory
    operations: RunningOperations
    sweeper: Sweeper

    @functools.cached_property
    def conversation(self) -> Conversation:
        """Every /wg command and button, over this core."""
        from bot.conversation import Conversation

        return Conversation(config=self.config, sessions=self.sessions, clock=self.clock,
                            directory=self.directory, operations=self.operations)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def open_database(settings: Settings, *, upgrade: bool | None = None) -> Engine:
    """An engine for DATABASE_URL; SQLite databases are upgraded to the newest schema on start."""
    engine = make_engine(settings.database_url)
    if upgrade if upgrade is not None else is_sqlite(settings.database_url):
        migrate.bring_up_to_date(engine, settings.database_url)
    return engine


def build_core(settings: Settings, *, clock: Clock, notifier: Notifier, directory: Directory,
               config: LiveConfig | None = None, engine: Engine | None = None,
               upgrade: bool | None = None, holder: str = "web") -> Core:
    """Wire the core from its parts (tests pass their own); `holder` names this process's claims."""
    config = config or LiveConfig(settings.config_dir, clock, settings.config_snapshot)
    engine = engine or open_database(settings, upgrade=upgrade)
    sessions = make_session_factory(engine)
    sweeper = Sweeper(config=config, sessions=sessions, clock=clock, notifier=notifier,
                      holder=holder)
    operations = RunningOperations(config=config, sessions=sessions, clock=clock,
                                   notifier=notifier, holder=holder, deliverer=sweeper)
    return Core(settings=settings, config=config, engine=engine, sessions=sessions, clock=clock,
                notifier=notifier, directory=directory, operations=operations, sweeper=sweeper)


def build_scheduler(core: Core) -> ReminderScheduler:
    """The reminder scheduler over the core's sweeper (build the core with a `holder_id()`)."""
    core.config.on_reload(core.operations.after_reload)
    poll = core.config.current().poll_seconds
    lease = (Lease(sessions=core.sessions, clock=core.clock, holder=core.sweeper.holder,
                   ttl=timedelta(seconds=lease_seconds(poll)))
             if is_sqlite(core.settings.database_url) else None)

    def swept() -> None:
        try:
            with unit_of_work(core.sessions) as s:
                record_sweep_completed(s, now=core.clock.now())
        except Exception:  # two schedulers recording at once on PostgreSQL: one of them wins
            log.warning("could not record the completed sweep", exc_info=True)

    return ReminderScheduler(sweeper=core.sweeper,
                             poll_seconds=lambda: core.config.current().poll_seconds,
                             watch_config=core.config.poll, lease=lease, on_swept=swept)


def run_console(settings: Settings, *, as_user: str, tz: str | None, config: LiveConfig,
                stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """`wgbot console`: a core over SQLite with a printing notifier (and, on a terminal, the clock)."""
    from bot.console.adapters import ConsoleDirectory, ConsoleNotifier
    from bot.console.session import converse

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    notifier = ConsoleNotifier(stdout, files_dir=Path("exports"))
    core = build_core(settings, clock=process_clock(settings.clock_offset_file), notifier=notifier,
                      directory=ConsoleDirectory(tz=tz), config=config,
                      holder=holder_id() if interactive else "web")
    scheduler = build_scheduler(core) if interactive else None
    if scheduler is not None:
        scheduler.start()
    try:
        return converse(core.conversation, notifier, as_user=as_user, stdin=stdin, stdout=stdout,
                        interactive=interactive)
    finally:
        if scheduler is not None:
            scheduler.stop()
        core.close()


def reminders_preview(settings: Settings, *, config: LiveConfig, at_text: str,
                      as_restart: bool = False) -> list[str]:
    """`wgbot reminders preview`: the preview over this deployment's database (nothing is kept)."""
    from bot.scheduling.preview import preview

    engine = open_database(settings)
    try:
        return preview(engine, config=config.current(), at_text=at_text, clock=SystemClock(),
                       as_restart=as_restart)
    finally:
        engine.dispose()


def build_slack(settings: Settings, *, clock: Clock, config: LiveConfig | None = None,
                process_before_response: bool = True, upgrade: bool | None = None,
                holder: str = "web", engine: Engine | None = None) -> tuple[App, Core]:
    """The Bolt app with every listener registered, and the core behind it (on `engine` when
    given, which its caller keeps and disposes)."""
    app, core, _after = _slack(settings, clock=clock, config=config,
                               process_before_response=process_before_response, upgrade=upgrade,
                               holder=holder, engine=engine)
    return app, core


def _slack(settings: Settings, *, clock: Clock, config: LiveConfig | None,
           process_before_response: bool, upgrade: bool | None,
           holder: str, engine: Engine | None = None) -> tuple[App, Core, ThreadPoolExecutor]:
    """build_slack(), and the executor that runs the work after each answer."""
    from bot.slack.listeners import SlackDeps, make_app

    client, notifier, directory = _web_api(settings)
    core = build_core(settings, clock=clock, notifier=notifier, directory=directory,
                      config=config, engine=engine, upgrade=upgrade, holder=holder)
    # process_before_response: Bolt answers Slack as soon as the listener returns, without its
    # 10 ms ack polling; whatever may take longer than the reply goes to this executor.
    executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="wgbot-after")
    app = make_app(client, signing_secret=settings.signing_secret,
                   process_before_response=process_before_response,
                   deps=SlackDeps(conversation=core.conversation, notifier=notifier,
                                  sessions=core.sessions, clock=clock, executor=executor))
    return app, core, executor


def _web_api(settings: Settings) -> tuple[Any, Notifier, Directory]:
    """The Slack Web API client (a slack_sdk WebClient), and the notifier and directory that
    speak through it."""
    from bot.slack.web import SlackDirectory, SlackNotifier, make_client

    client = make_client(token=settings.bot_token, base_url=settings.slack_api_url,
                         timeout=settings.slack_timeout)
    return client, SlackNotifier(client), SlackDirectory(client)


def build_clock(settings: Settings, *, clock: Clock, config: LiveConfig | None = None
                ) -> tuple[Core, ReminderScheduler]:
    """`wgbot clock`: the core behind the Slack Web API and its scheduler; no Bolt app, since
    the clock answers nothing (it starts in less time and memory than a web worker)."""
    _client, notifier, directory = _web_api(settings)
    core = build_core(settings, clock=clock, notifier=notifier, directory=directory,
                      config=config, holder=holder_id())
    return core, build_scheduler(core)


class SocketBot:
    """`wgbot socket`: the Bolt app and its core over one Socket Mode connection, and the reminder
    scheduler when this process runs it. The command line adds only signals and exit codes.

    connect() opens the connection (SocketModeRefused when Slack will not give one), then starts
    the scheduler; close() stops taking envelopes and lets those at work finish and ack, lets the
    work after their answers finish, stops the scheduler and releases the database. close() may be
    called whether or not connect() succeeded. ``ping_interval``, ``ping_timeout`` and ``linger``
    (seconds) replace the handler's defaults (bot.slack.socket), for tests that cannot wait them
    out.
    """

    def __init__(self, settings: Settings, *, clock: Clock, config: LiveConfig | None = None,
                 scheduler: bool = True, upgrade: bool | None = None,
                 ping_interval: float | None = None, ping_timeout: float | None = None,
                 linger: float | None = None) -> None:
        from bot.slack.socket import OnceSocketModeHandler

        self.app, self.core, self._after = _slack(
            settings, clock=clock, config=config, process_before_response=True, upgrade=upgrade,
            holder=holder_id() if scheduler else "web")
        timings = {k: v for k, v in (("ping_interval", ping_interval),
                                     ("ping_timeout", ping_timeout), ("linger", linger))
                   if v is not None}
        try:
            self.handler = OnceSocketModeHandler(self.app, settings.app_token or "", **timings)
        except BaseException:
            self._after.shutdown()
            self.core.close()
            raise
        self._runs_scheduler = scheduler
        self.scheduler: ReminderScheduler | None = None

    def connect(self) -> None:
        """Open the Socket Mode connection, then start the scheduler (if this process runs it)."""
        self.handler.connect()
        if self._runs_scheduler:
            self.scheduler = build_scheduler(self.core)
            self.scheduler.start()

    def close(self) -> None:
        """Finish the envelopes at work and the work after them, stop the scheduler, release
        the database."""
        self.handler.close()
        self._after.shutdown(wait=True)
        if self.scheduler is not None:
            self.scheduler.stop()
        self.core.close()


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
