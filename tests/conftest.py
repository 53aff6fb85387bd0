"""Shared fixtures: a copy of the shipped config, databases (SQLite always, PostgreSQL when given),
the fake Slack Web API, the bot's Bolt app in this process (with a clock fixed on a working-day
morning, outside quiet hours), and the real `wgbot serve` process."""
from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import os
import secrets
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:  # imported where used: the controller of a parallel run needs none of them
    from sqlalchemy import Engine

    from bot.clock import FixedClock
    from tests.slack_fake.inprocess import InProcessBot
    from tests.slack_fake.server import FakeSlack

REPO = Path(__file__).resolve().parents[1]


def _end_the_worker_now() -> None:
    """A test worker's interpreter, its results reported and its files closed, ends without
    tearing its heap down: on two CPUs, five workers each freeing everything their tests built
    cost about a second and a half at the end of every run, while the controller waited."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if os.environ.get("PYTEST_XDIST_WORKER"):
    # Registered as the worker starts: it runs after whatever the tests register to run at exit.
    atexit.register(_end_the_worker_now)
    # Importing the test modules (and the bot, SQLAlchemy, Hypothesis... behind them) makes
    # objects that live for the whole run; the garbage collector's passes over them while they
    # are made find nothing to free. It is off until collection ends (pytest_collection_finish).
    gc.disable()

PG_URL = os.environ.get("WGBOT_TEST_DATABASE_URL")

ADMIN = "U0ADMIN01"
COORDINATOR = "U0COORD01"
MEMBER = "U0MEMBER1"
OTHER = "U0MEMBER2"
# Tuesday 1 Dec 2026, 11:00 in Vienna: before the session (4 Mar 2027), outside quiet hours.
MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def edit_settings(config_dir: Path, changes: dict[str, Any]) -> None:
    """Rewrite settings.yaml with nested changes applied (comments are not kept)."""
    path = config_dir / "settings.yaml"
    data = yaml.safe_load(path.read_text())

    def merge(into: dict[str, Any], new: dict[str, Any]) -> None:
        for k, v in new.items():
            if isinstance(v, dict) and isinstance(into.get(k), dict):
                merge(into[k], v)
            else:
                into[k] = v

    merge(data, changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped config/ folder."""
    target = tmp_path / "config"
    shutil.copytree(REPO / "config", target)
    return target


def _children_first(conn: Any, tables: list[str]) -> list[str]:
    """The tables in an order that deletes every referencing row before the row it refers to."""
    refers: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in conn.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND connamespace = 'public'::regnamespace"):
        if child != parent and child.strip('"') in refers:
            refers[child.strip('"')].add(parent.strip('"'))
    order: list[str] = []
    while refers:  # a table goes once nothing left to delete refers to it
        free = sorted(t for t in refers if not any(t in ps for ps in refers.values()))
        assert free, f"a cycle of foreign keys among {sorted(refers)}"
        order += free
        for t in free:
            del refers[t]
    return order


class _PgPool:
    """One PostgreSQL database per fixture name and test worker, emptied for every test.

    CREATE and DROP DATABASE cost most of a second each on a busy machine. A database the last
    test left at the newest schema is emptied of rows (DELETE, referencing tables first, twice
    for the rows triggers write, and the sequences restarted: a test's rows are few, and
    TRUNCATE costs 100-150 ms of the server's time per test, DELETE 3-10 ms), so the bot finds
    its schema current, as on any start after the first; otherwise, or for a test marked
    `empty_database` (migrations), the public schema is dropped: an empty database again. The
    pool keeps one connection per database and the statements that empty it, so emptying is one
    round trip on a server process that knows the tables already. The databases are dropped when
    the worker ends.
    """

    def __init__(self) -> None:
        self.urls: dict[str, str] = {}
        self._conns: dict[str, Any] = {}  # one kept connection per database
        self._emptying: dict[str, str] = {}  # the statements that empty one at the newest schema

    def _admin(self) -> str:
        return PG_URL.replace("postgresql+psycopg://", "postgresql://")  # type: ignore[union-attr]

    def _conn(self, url: str) -> Any:
        """The kept connection to the database, with what a test left in a transaction ended
        (idle connections, the worker's kept engine's, hold no locks); a new connection if a
        test ended every other session, ours included."""
        import psycopg

        leftovers = ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                     "AND state <> 'idle'")
        conn = self._conns.get(url)
        if conn is not None and not conn.closed:
            try:
                conn.execute(leftovers)
                return conn
            except psycopg.OperationalError:
                conn.close()
        conn = self._conns[url] = psycopg.connect(url, autocommit=True)
        conn.execute(leftovers)
        return conn

    def empty(self, key: str, *, schema: bool, engines: _Engines | None = None) -> str:
        import psycopg

        from bot.store import migrate

        if key not in self.urls:
            name = f"wgbot_{key}_{secrets.token_hex(6)}"
            with psycopg.connect(self._admin(), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            self.urls[key] = f"{self._admin().rsplit('/', 1)[0]}/{name}"
            if schema:
                migrate.upgrade(self.urls[key])
            return self.urls[key]
        url = self.urls[key]
        conn = self._conn(url)
        try:
            at = conn.execute("SELECT max(version_num) FROM alembic_version").fetchone()[0]
        except psycopg.errors.UndefinedTable:
            at = None
        if schema and at is not None and at == migrate.head():
            if url not in self._emptying:
                tables = [t for (t,) in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'")]
                order = _children_first(conn, tables)
                sequences = [q for (q,) in conn.execute(
                    "SELECT sequence_name FROM information_schema.sequences "
                    "WHERE sequence_schema = 'public'")]
                # Twice: the tally triggers write rows while the first pass deletes.
                self._emptying[url] = "BEGIN; " + "".join(
                    [f'DELETE FROM "{t}"; ' for t in order + order]
                    + [f'ALTER SEQUENCE "{q}" RESTART; ' for q in sequences]) + "COMMIT"
            conn.execute(self._emptying[url])
            return url
        self._emptying.pop(url, None)
        if engines is not None:
            engines.forget(url)  # its connections' prepared statements name old tables
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
        if schema:
            migrate.upgrade(url)
        return url

    def close(self) -> None:
        import psycopg

        for kept in self._conns.values():
            kept.close()
        with psycopg.connect(self._admin(), autocommit=True) as conn:
            for url in self.urls.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _pg_pool() -> Iterator[_PgPool]:
    pool = _PgPool()
    try:
        yield pool
    finally:
        pool.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "empty_database: the PostgreSQL database must hold no "
                                       "schema at all (tests of the migrations themselves)")


# Modules, and tests in this process, whose time is mostly spent waiting (for a process to start,
# a socket to reconnect, a clock to come back, a slow client to be cut off, a Retry-After or a
# timed-out post to pass, a lock to be let go), not computing.
_WAITING = ("tests/scenario/", "tests/test_cli.py", "tests/slack/test_http_edge.py",
            "tests/slack_fake/test_harness.py", "tests/store/test_migrations.py",
            "tests/console/test_log_lines.py",
            "tests/scheduling/test_sweep.py::test_server_errors_retry_with_backoff",
            "tests/scheduling/test_pace.py::test_every_dm_exactly_once_through_429s",
            "tests/scheduling/test_pace.py::test_a_429_pauses_the_method_for_every_sender",
            "tests/scheduling/test_outcome.py::test_a_post_that_times_out",
            "tests/scheduling/test_outcome.py::test_a_timed_out_post",
            "tests/services/test_busy_database.py::test_outside_a_request_a_unit_waits")


# The waiting tests that take longest (5 s to 12 s each), longest first: they start before every
# other test, so that none of them starts late and runs on after everything else has finished.
# The HTTP edge's module goes to one worker whole, so its slow-clients test brings the rest along.
_LONGEST = ("tests/scenario/test_serve_faults.py::test_the_scheduler_killed_frozen_and_orphaned",
            "tests/slack/test_http_edge.py",
            "tests/scenario/test_reminders_http.py::test_countdowns_exactly_once_across_a_restart",
            "tests/scenario/test_reminders_http.py::test_two_processes_on_postgresql",
            "tests/scenario/test_reminders_http.py::test_a_post_that_times_out_after_posting",
            "tests/scenario/test_reminders_http.py::test_sigterm_finishes",
            "tests/scenario/test_socket_mode.py::test_silent_connection_is_noticed")


def _waits(nodeid: str) -> bool:
    return nodeid.startswith(_WAITING)


def _expected_cost(item: pytest.Item) -> tuple[int, int]:
    if _waits(item.nodeid):
        return 0, next((i for i, prefix in enumerate(_LONGEST) if item.nodeid.startswith(prefix)),
                       len(_LONGEST))
    if "postgresql" in item.nodeid or getattr(item.obj, "is_hypothesis_test", False):
        return 1, 0
    return 2, 0


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything imported and collected so far stays for the whole run: the garbage collector
    stops looking at it, so its full collections, frequent in tests that build many objects,
    only walk what the tests made (about 5% of the suite's CPU)."""
    gc.collect()
    gc.freeze()
    gc.enable()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The waiting tests first (the longest of them first of all), then PostgreSQL and
    Hypothesis tests, then the rest (a stable sort: order within each kind is kept), so that no
    long test starts last and runs alone at the end; the scheduler below keeps the waiting ones
    to all but two workers at a time."""
    items.sort(key=_expected_cost)


# Modules whose tests share something costly to make: one `wgbot serve` (the HTTP edge), the brief
# of the planted commitments (and the chart library's import), the 100k-commitment database.
# pytest-xdist hands out tests a chunk at a time, so each worker that got some of them would make
# its own: they are sent to one worker together instead, which makes it once.
_ONE_WORKER_MODULES = ("tests/slack/test_http_edge.py", "tests/brief/test_brief.py",
                       "tests/services/test_digests_scale.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's `load` scheduling (as scripts/test asks for it), with two changes:

    * the first test of a module in _ONE_WORKER_MODULES sent to a worker takes the module's other
      pending tests along;
    * all but two workers at most are given waiting tests (_WAITING) at a time: the two
      left compute, so the CPUs of a 2-CPU machine stay busy while the others wait, instead of
      every worker waiting at once and the computing tests all coming after;
    * a worker holds at most one of the longest waiting tests (_LONGEST), and one with a waiting
      test queued behind the one it runs is given nothing more until it gets to it: xdist hands
      a worker more whenever a quick test ends, and those would wait out its long one while
      other workers could run them.
    """
    from xdist.scheduler import LoadScheduling

    if config.getvalue("dist") != "load" or not hasattr(LoadScheduling, "_send_tests"):
        return None  # xdist's own choice

    class WaitingAndComputing(LoadScheduling):
        def _module(self, index: int) -> str | None:
            module = self.collection[index].split("::", 1)[0]
            return module if module in _ONE_WORKER_MODULES else None

        @functools.cached_property
        def _waiting(self) -> frozenset[int]:
            return frozenset(i for i, nodeid in enumerate(self.collection) if _waits(nodeid))

        @functools.cached_property
        def _long(self) -> frozenset[int]:
            return frozenset(i for i, nodeid in enumerate(self.collection)
                             if nodeid.startswith(_LONGEST))

        def _choose(self, node: Any, num: int) -> list[int]:
            here = self.node2pending[node]
            others_waiting = sum(1 for n, pending in self.node2pending.items()
                                 if n is not node and not self._waiting.isdisjoint(pending))
            may_wait = others_waiting < max(1, len(self.node2pending) - 2)
            long_here = not self._long.isdisjoint(here)
            chosen: list[int] = []
            for i in self.pending:
                if len(chosen) == num:
                    break
                if (i in self._waiting) != may_wait or (long_here and i in self._long):
                    continue
                long_here = long_here or i in self._long
                chosen.append(i)
            return chosen or self.pending[:num]

        def _send_tests(self, node: Any, num: int) -> None:
            here = self.node2pending[node]
            if len(here) >= 2 and not self._waiting.isdisjoint(here[1:]):
                return  # it will come back for more; what it got now would wait its turn
            chosen = self._choose(node, num)
            modules = {m for m in map(self._module, chosen) if m}
            chosen += [i for i in self.pending if i not in chosen and self._module(i) in modules]
            if chosen:
                sent = set(chosen)
                self.pending[:] = [i for i in self.pending if i not in sent]
                self.node2pending[node].extend(chosen)
                node.send_runtest_some(chosen)

    return WaitingAndComputing(config, log)


class _Engines:
    """The engines a test worker keeps from test to test, one per shared database.

    A new engine compiles every statement again and opens new connections (on PostgreSQL each
    one a new server process): for a short conversation test that costs more than the test's
    own work. An engine goes back to being made anew when a test leaves it changed: a
    connection still checked out, or an event listener added and not removed.
    """

    def __init__(self) -> None:
        self._kept: dict[str, tuple[Engine, tuple[int, ...]]] = {}

    @staticmethod
    def _listeners(engine: Engine) -> tuple[int, ...]:
        return tuple(len(getattr(d, name)) for d in (engine.dispatch, engine.pool.dispatch)
                     for name in d._event_names)

    def get(self, url: str) -> Engine:
        if url not in self._kept:
            from bot.store.db import make_engine

            engine = make_engine(url)
            self._kept[url] = (engine, self._listeners(engine))
        return self._kept[url][0]

    def check(self, url: str) -> None:
        """After a test: keep the engine only if the test left it as it found it."""
        if url in self._kept:
            engine, listeners = self._kept[url]
            if engine.pool.checkedout() or self._listeners(engine) != listeners:  # type: ignore[attr-defined]
                self.forget(url)

    def forget(self, url: str) -> None:
        kept = self._kept.pop(url, None)
        if kept:
            kept[0].dispose()

    def close(self) -> None:
        for url in list(self._kept):
            self.forget(url)


@pytest.fixture(scope="session")
def _engines() -> Iterator[_Engines]:
    engines = _Engines()
    try:
        yield engines
    finally:
        engines.close()


_SCHEMA = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"


@functools.cache
def _template_schema(template: Path) -> tuple[list[Any], list[Any]]:
    with contextlib.closing(sqlite3.connect(template)) as conn:
        return (conn.execute(_SCHEMA).fetchall(),
                conn.execute("SELECT version_num FROM alembic_version").fetchall())


def _empty_sqlite(path: Path, template: Path) -> bool:
    """Delete every row of a database whose schema is the template's (twice: the tally
    triggers write while the first pass deletes); False if its schema or its version differs,
    or it cannot be read."""
    schema, version = _template_schema(template)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    except sqlite3.Error:
        return False
    try:
        if conn.execute(_SCHEMA).fetchall() != schema or \
                conn.execute("SELECT version_num FROM alembic_version").fetchall() != version:
            return False
        conn.execute("PRAGMA foreign_keys=OFF")
        tables = [name for kind, name, _sql in schema
                  if kind == "table" and name != "alembic_version"]
        conn.execute("BEGIN IMMEDIATE")
        for table in tables + tables:
            conn.execute(f'DELETE FROM "{table}"')
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
            conn.execute("DELETE FROM sqlite_sequence")
        conn.execute("COMMIT")
        return True
    except sqlite3.Error:
        return False
    finally:
        conn.close()


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, _engines: _Engines, _migrated_sqlite: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The worker's SQLite database at the newest schema, emptied of rows for this test (made
    again from the migrated template if a test changed its schema or broke it)."""
    path = tmp_path_factory.getbasetemp() / "shared" / "wgbot.db"
    url = f"sqlite:///{path}"
    if not _empty_sqlite(path, _migrated_sqlite):
        _engines.forget(url)
        path.parent.mkdir(exist_ok=True)
        for leftover in (path, path.with_name("wgbot.db-wal"), path.with_name("wgbot.db-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(_migrated_sqlite, path)
    yield url
    _engines.check(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no rows, at the newest schema (none for a test marked `empty_database`):
    SQLite always (the worker's database, see sqlite_url, or a new file with no schema);
    PostgreSQL when WGBOT_TEST_DATABASE_URL is set (see _PgPool). The `engine` fixture is the
    worker's engine for it."""
    empty = request.node.get_closest_marker("empty_database") is not None
    if request.param == "sqlite":
        yield (f"sqlite:///{tmp_path / 'wgbot.db'}" if empty
               else request.getfixturevalue("sqlite_url"))
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need WGBOT_TEST_DATABASE_URL (.ci/run sets it)")
    engines: _Engines = request.getfixturevalue("_engines")
    url = request.getfixturevalue("_pg_pool").empty("db", schema=not empty, engines=engines)
    yield url
    engines.check(url)


@pytest.fixture
def engine(database_url: str, _engines: _Engines) -> Engine:
    """The worker's engine for `database_url` (kept between tests; do not dispose it)."""
    return _engines.get(database_url)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh empty PostgreSQL database (skipped without WGBOT_TEST_DATABASE_URL)."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need WGBOT_TEST_DATABASE_URL (.ci/run sets it)")
    yield request.getfixturevalue("_pg_pool").empty(
        "pg", schema=request.node.get_closest_marker("empty_database") is None)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """The fake Slack Web API on 127.0.0.1."""
    from tests.slack_fake.server import FakeSlack

    with FakeSlack() as f:
        yield f


@pytest.fixture
def clock() -> FixedClock:
    """The injected clock."""
    from bot.clock import FixedClock

    return FixedClock(MORNING)


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database file at the newest schema, migrated once per test worker."""
    path = tmp_path_factory.mktemp("template") / "wgbot.db"
    from bot.store import migrate

    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def inproc(fake: FakeSlack, config_dir: Path, clock: FixedClock, sqlite_url: str,
           _engines: _Engines) -> Iterator[InProcessBot]:
    """The bot's Bolt app in this process, on SQLite: signed requests, no `wgbot serve`.

    The database is the worker's, emptied for the test, with its engine kept between tests.
    """
    from tests.slack_fake.inprocess import InProcessBot

    with InProcessBot(fake=fake, config_dir=config_dir, clock=clock, database_url=sqlite_url,
                      engine=_engines.get(sqlite_url)) as bot:
        yield bot
