"""The `wgbot` command line. Only this module chooses exit codes and prints to the terminal."""
from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.clock import Clock, process_clock
from bot.moments import read_moment
from bot.settings import SettingError, Settings, database_url_problem

log = logging.getLogger("wgbot")


@contextlib.contextmanager
def _starting() -> Iterator[None]:
    """A command starting: its imports, and what it builds to last the process, with the cyclic
    garbage collector paused, then frozen.

    All of it lives as long as the process: the collector's passes over it while it is made find
    nothing to free, and frozen it is never walked again (nor touched, and so copied, in the
    workers gunicorn forks). Starting `wgbot serve` or `wgbot clock` takes about a quarter less
    CPU. The collector is left as it was found: on, unless a caller had turned it off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


class OneLineFormatter(logging.Formatter):
    """Log messages stay on one line: newlines and carriage returns in them are escaped, so a value
    taken from a request can never forge a log line of its own."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        """Escape CR and LF in the message before formatting."""
        record.message = record.message.replace("\r", "\\r").replace("\n", "\\n")
        return super().formatMessage(record)


CONSOLE_LOG = "wgbot.log"  # in the current folder, beside the console's wgbot.db


def _setup_logging(console: bool = False) -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if logging.getLogger().handlers:
        return  # configured by the caller of main(): basicConfig would drop ours, its file open
    level = os.environ.get("WGBOT_LOG_LEVEL", "WARNING" if console else "INFO").upper()
    handler: logging.Handler = logging.StreamHandler(sys.stderr)
    if console:  # on the console's terminal a log line would repeat the reply: to a file
        try:
            handler = logging.FileHandler(CONSOLE_LOG, encoding="utf-8")
        except OSError:
            pass
    handler.setFormatter(OneLineFormatter(
        "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wgbot", description="Slack bot of the OSCE informal working "
                                "group on migration.")
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("run", help="serve over HTTP when Slack tokens are set, else the local console")
    s = sub.add_parser("serve", help="HTTP mode for Slack (gunicorn)")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--workers", type=int, help="web workers (default WEB_CONCURRENCY or 1)")
    s.add_argument("--no-scheduler", action="store_true", help="answer Slack only; no reminders")
    k = sub.add_parser("socket", help="Socket Mode (SLACK_APP_TOKEN), no public URL needed")
    k.add_argument("--no-scheduler", action="store_true")
    ck = sub.add_parser("clock", help="run the reminder scheduler alone")
    ck.add_argument("--managed", action="store_true", help=argparse.SUPPRESS)
    c = sub.add_parser("console", help="a local chat console on SQLite, no Slack needed")
    c.add_argument("--as", dest="as_user", default="U0CONSOLE", help="the Slack user id to act as")
    c.add_argument("--tz", help="your timezone (default: the config's)")
    cfg = sub.add_parser("config", help="configuration")
    cfg_sub = cfg.add_subparsers(dest="config_cmd")
    chk = cfg_sub.add_parser("check", help="validate config/settings.yaml and recommendations.yaml")
    chk.add_argument("dir", nargs="?")
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_cmd")
    db_sub.add_parser("upgrade", help="apply migrations")
    dn = db_sub.add_parser("downgrade", help="revert migrations")
    dn.add_argument("revision", nargs="?", default="-1")
    db_sub.add_parser("current", help="show the schema revision")
    rem = sub.add_parser("reminders", help="reminders")
    rem_sub = rem.add_subparsers(dest="rem_cmd")
    prev = rem_sub.add_parser("preview", help="what would be sent up to a moment; sends nothing")
    prev.add_argument("--at", required=True, help="ISO moment, e.g. 2027-02-25T09:00 (config timezone)")
    prev.add_argument("--restart", action="store_true",
                      help="what a restart at --at would send after downtime (coalesced)")
    br = sub.add_parser("brief", help="write the session brief (chart, Word document, text) to a folder")
    br.add_argument("--out", required=True, help="folder for the files (created if missing)")
    exp = sub.add_parser("export", help="export commitments")
    exp.add_argument("format", choices=("csv", "ics"))
    exp.add_argument("--out", required=True)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `wgbot` console script."""
    args = _parser().parse_args(argv)
    usage = _usage(args)
    if usage:  # before anything is opened: a usage error leaves no database file behind
        print(usage, file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
        console = args.cmd == "console" or (args.cmd in (None, "run")
                                            and settings.slack_mode() == "console")
        _setup_logging(console=console)
        if args.cmd in _NEEDS:  # before the database: a missing token is said at once
            settings.require(*_NEEDS[args.cmd], purpose=f"wgbot {args.cmd}")
        if args.cmd in _USES_DATABASE or args.cmd is None:
            problem = database_url_problem(settings.database_url)
            if problem:
                raise SettingError(problem)
            _check_database(settings)
        return _dispatch(args, settings)
    except SettingError as e:
        print(f"wgbot: {e}", file=sys.stderr)
        return 2
    except _DatabaseUnavailable as e:
        print(f"wgbot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except _ConfigFailure as e:
        print(str(e), file=sys.stderr)
        return 1


def _usage(args: argparse.Namespace) -> str | None:
    """What is wrong with the command line itself (None: nothing): the usage line of a command
    given without its sub-command, or an --at that is no ISO moment."""
    if args.cmd == "config" and args.config_cmd != "check":
        return "usage: wgbot config check [DIR]"
    if args.cmd == "db" and args.db_cmd is None:
        return "usage: wgbot db upgrade|downgrade [REV]|current"
    if args.cmd == "reminders" and args.rem_cmd != "preview":
        return "usage: wgbot reminders preview --at <ISO moment>"
    if args.cmd == "reminders":
        try:
            read_moment(args.at)
        except ValueError as e:
            return f"wgbot: {e}"
    return None


class _ConfigFailure(Exception):
    pass


class _DatabaseUnavailable(Exception):
    pass


# What the Slack-facing commands need from the environment (`run` chooses by what is set).
_NEEDS = {"serve": ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
          "socket": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"),
          "clock": ("SLACK_BOT_TOKEN",)}
_USES_DATABASE = ("run", "serve", "socket", "clock", "console", "db", "reminders", "export",
                  "brief")


def _check_database(settings: Settings) -> None:
    """Connect once: a database that cannot be reached stops the command here, with one line."""
    with _starting():
        from sqlalchemy import text
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import SQLAlchemyError

        from bot.store.db import make_engine

    try:
        engine = make_engine(settings.database_url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except SQLAlchemyError as e:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()
        detail = reason[-1].strip() if reason else type(e).__name__
        raise _DatabaseUnavailable(f"cannot open the database {where}: {detail[:200]}") from e


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    cmd = args.cmd or "run"
    if cmd == "run":
        mode = settings.slack_mode()
        if mode == "socket":
            return _socket(settings, scheduler=True)
        if mode == "http":
            return _serve(settings, host=None, port=None, workers=None, scheduler=True)
        return _console(settings, as_user="U0CONSOLE", tz=None)
    if cmd == "serve":
        return _serve(settings, host=args.host, port=args.port, workers=args.workers,
                      scheduler=not args.no_scheduler)
    if cmd == "socket":
        return _socket(settings, scheduler=not args.no_scheduler)
    if cmd == "clock":
        return _clock(settings, managed=args.managed)
    if cmd == "console":
        return _console(settings, as_user=args.as_user, tz=args.tz)
    if cmd == "config":  # incomplete commands were answered with their usage in main()
        return _config_check(Path(args.dir) if args.dir else settings.config_dir)
    if cmd == "db":
        return _db(settings, args)
    if cmd == "reminders":
        return _preview(settings, args.at, restart=args.restart)
    if cmd == "export":
        return _export(settings, args.format, Path(args.out))
    if cmd == "brief":
        return _brief(settings, Path(args.out))
    return 2


@functools.cache
def _clock_of(settings: Settings) -> Clock:
    """The process's clock: the wall clock, or shifted by WGBOT_CLOCK_OFFSET_FILE (tests)."""
    if settings.clock_offset_file is not None:
        log.warning("the clock is shifted by the offset in %s (WGBOT_CLOCK_OFFSET_FILE)",
                    settings.clock_offset_file)
    return process_clock(settings.clock_offset_file)


def _live_config(settings: Settings) -> Any:
    with _starting():
        from bot.config.live import LiveConfig
        from bot.config.problems import ConfigError

    try:
        return LiveConfig(settings.config_dir, _clock_of(settings), settings.config_snapshot)
    except ConfigError as e:
        raise _ConfigFailure(f"wgbot: the config in {settings.config_dir} has problems:\n{e}\n"
                             f"Run `wgbot config check` after fixing them.") from e


def _config_check(directory: Path) -> int:
    with _starting():
        from bot.config.load import load_files, read_config, shipped_examples
        from bot.config.problems import ConfigError
        from bot.config.report import summary

    files = read_config(directory)
    try:
        loaded = load_files(files, now=process_clock(None).now())
    except ConfigError as e:
        for p in e.problems:
            print(p)
        n = len([p for p in e.problems if p.severity == "error"])
        print(f"\n{n} problem{'s' if n != 1 else ''}; the bot would keep its last good config.")
        return 1
    for w in sorted((*loaded.warnings, *shipped_examples(files)),
                    key=lambda p: (p.file != files.settings.name, p.line or 0, p.column or 0)):
        print(w)
    print(summary(loaded.config))
    return 0


def _db(settings: Settings, args: argparse.Namespace) -> int:
    with _starting():
        from bot.store import migrate
        from bot.store.db import make_engine

    if args.db_cmd == "upgrade":
        migrate.upgrade(settings.database_url)
        print("database is at", migrate.head())
        return 0
    if args.db_cmd == "downgrade":
        migrate.downgrade(settings.database_url, args.revision)
        return 0
    if args.db_cmd == "current":
        engine = make_engine(settings.database_url)
        print(migrate.current(engine) or "empty (run `wgbot db upgrade`)")
        engine.dispose()
        return 0
    print("usage: wgbot db upgrade|downgrade [REV]|current", file=sys.stderr)
    return 2


def _serve(settings: Settings, *, host: str | None, port: int | None, workers: int | None,
           scheduler: bool) -> int:
    settings.require(*_NEEDS["serve"], purpose="wgbot serve")
    with _starting():
        from bot.app import build_slack, open_database, serving_health
        from bot.scheduling.process import ClockProcess
        from bot.slack.http import GunicornServer, SlackEdge, asgi_app

    # Fail fast, with located messages, before any worker starts. The copy of the good config
    # lets a worker or the clock that restarts while an admin's edit is broken keep running.
    snapshot = Path(tempfile.mkdtemp(prefix="wgbot-config-"))
    os.environ["WGBOT_CONFIG_SNAPSHOT"] = str(snapshot)
    settings = Settings.from_env()
    _live_config(settings)
    open_database(settings).dispose()  # SQLite: upgrade once, before any worker starts
    clock_process = ClockProcess() if scheduler else None
    started_at = _clock_of(settings).now()

    def on_exit() -> None:
        if clock_process:
            clock_process.stop()
        shutil.rmtree(snapshot, ignore_errors=True)

    def load() -> Any:  # in each web worker: the Bolt app and the core, built to last it
        with _starting():
            app, core = build_slack(settings, clock=_clock_of(settings), upgrade=False)
            edge = SlackEdge(app, signing_secret=settings.signing_secret or "")
            return asgi_app(edge, health=serving_health(core, started_at=started_at,
                                                        supervised=scheduler))

    GunicornServer(load=load, host=host or settings.host, port=port or settings.port,
                   workers=workers or settings.web_concurrency,
                   on_ready=clock_process.start if clock_process else None,
                   on_exit=on_exit).run()
    return 0


def _finished_stopping() -> None:
    """Everything is stopped: a further SIGTERM (a supervisor repeating itself) changes nothing.

    Python puts the default action back while the interpreter winds down, so a repeated signal
    arriving then would end the process as killed instead of with its clean exit code.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _socket(settings: Settings, *, scheduler: bool) -> int:
    settings.require(*_NEEDS["socket"], purpose="wgbot socket")
    with _starting():  # the Bolt app and the core, built to last the process
        from bot.app import SocketBot
        from bot.slack.socket import SocketModeRefused

        bot = SocketBot(settings, clock=_clock_of(settings), config=_live_config(settings),
                        scheduler=scheduler)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        bot.connect()
    except SocketModeRefused as e:
        print(f"wgbot: {e}", file=sys.stderr)
        bot.close()
        return 2
    log.info("wgbot socket connected; SIGTERM stops it")
    # A signal taken by another thread does not wake a wait without timeout in the main
    # thread; the handler runs when the wait times out.
    while not stop.wait(0.1):
        pass
    log.info("wgbot socket stopping")
    bot.close()
    _finished_stopping()
    return 0


def _clock(settings: Settings, *, managed: bool = False) -> int:
    settings.require(*_NEEDS["clock"], purpose="wgbot clock")
    with _starting():  # and the core and scheduler, built to last the process
        from bot.app import build_clock
        from bot.scheduling.process import stop_when_orphaned

        _core, sched = build_clock(settings, clock=_clock_of(settings),
                                   config=_live_config(settings))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if managed:  # started by `wgbot serve`: ends with it
        stop_when_orphaned(stop)
    sched.start()
    log.info("wgbot clock running; SIGTERM stops it")
    while not stop.wait(0.1):  # see _socket: a signal taken by another thread
        pass
    sched.stop()
    _finished_stopping()
    return 0


def _console(settings: Settings, *, as_user: str, tz: str | None) -> int:
    with _starting():
        from bot.app import run_console

    return run_console(settings, as_user=as_user, tz=tz, config=_live_config(settings))


def _preview(settings: Settings, at: str, *, restart: bool = False) -> int:
    with _starting():
        from bot.app import reminders_preview

    config = _live_config(settings)
    try:
        lines = reminders_preview(settings, config=config, at_text=at, as_restart=restart)
    except ValueError as e:
        print(f"wgbot: {e}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def _export(settings: Settings, fmt: str, out: Path) -> int:
    with _starting():
        from bot.app import open_database
        from bot.services import exports
        from bot.store.db import make_session_factory, unit_of_work

    config = _live_config(settings).current()
    engine = open_database(settings)
    with unit_of_work(make_session_factory(engine), read_only=True) as s:
        now = _clock_of(settings).now()
        attachment = (exports.csv_file(s, config=config, now=now, tz=config.timezone)
                      if fmt == "csv" else exports.ics_file(s, config=config, now=now))
    out.write_bytes(attachment.content)
    print(f"wrote {out} ({len(attachment.content)} bytes)")
    engine.dispose()
    return 0


def _brief(settings: Settings, out: Path) -> int:
    def unwritable(e: OSError) -> int:
        print(f"wgbot: cannot write the brief to {out}: {e.strerror or e}", file=sys.stderr)
        return 1

    try:  # a folder that cannot be made is said before seconds of importing and drawing
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return unwritable(e)

    with _starting():
        from bot.app import open_database
        from bot.brief.files import brief_files
        from bot.brief.text import render
        from bot.services import briefs
        from bot.store.db import make_session_factory, unit_of_work

    config = _live_config(settings).current()
    engine = open_database(settings)
    try:
        with unit_of_work(make_session_factory(engine), read_only=True) as s:
            brief = briefs.gather(s, config=config, now=_clock_of(settings).now(), tz=config.timezone)
    finally:
        engine.dispose()
    try:
        files = brief_files(brief)
        for f in files:  # each file appears whole or not at all
            part = out / f"{f.filename}.part"
            part.write_bytes(f.content)
            os.replace(part, out / f.filename)
    except OSError as e:
        return unwritable(e)
    print(render(brief))
    for f in files:
        print(f"wrote {out / f.filename} ({len(f.content)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
