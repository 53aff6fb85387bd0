"""Engine and session factory (SQLite pragmas, PostgreSQL URL forms) and the unit of work.

A unit of work waits for another writer's lock for up to SQLITE_BUSY_TIMEOUT_MS, unless it runs
inside a request budget (``request_budget``/``start_request_budget``, set by the Slack edge for
every request): then it waits only for what is left of the budget and raises DatabaseBusy after
rolling back, so Slack gets an honest answer before its 3 s limit.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15000
READ_ONLY_OPTION = "wgbot_read_only"
_BUSY_TIMEOUT = "wgbot_busy_timeout_ms"  # a SQLite connection's busy_timeout, as last set
# SQLSTATE 55P03 lock_not_available: PostgreSQL's lock_timeout expired.
_PG_LOCK_NOT_AVAILABLE = "55P03"
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")

_deadline: ContextVar[float | None] = ContextVar("wgbot_request_deadline", default=None)


class DatabaseBusy(Exception):
    """Another writer held the database longer than this request may wait; nothing was written."""


def start_request_budget(seconds: float) -> None:
    """From now on, in this context, units of work wait at most `seconds` in all for locks."""
    _deadline.set(time.monotonic() + seconds)


@contextmanager
def request_budget(seconds: float) -> Iterator[None]:
    """Within the block, units of work wait at most `seconds` in all for another writer's lock."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def lock_wait_ms() -> int | None:
    """How long a unit beginning now may wait for a lock (None: no request budget, the default)."""
    deadline = _deadline.get()
    if deadline is None:
        return None
    return max(0, int((deadline - time.monotonic()) * 1000))


def is_busy(error: BaseException) -> bool:
    """True when a database error means another writer's lock was not released in time."""
    if not isinstance(error, DBAPIError):
        return False
    orig = error.orig
    if getattr(orig, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE:
        return True
    return type(orig).__name__ == "OperationalError" and \
        any(m in str(orig).lower() for m in _SQLITE_BUSY)


def normalise_url(url: str) -> str:
    """Accept the URL forms hosting platforms hand out: postgres:// and postgresql:// use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def is_sqlite(url: str) -> bool:
    """True for a SQLite URL."""
    return normalise_url(url).startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the URL; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin, so BEGIN IMMEDIATE works.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            record.info[_BUSY_TIMEOUT] = SQLITE_BUSY_TIMEOUT_MS

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # The wait for another writer's lock: what is left of the request's budget, else the
            # default (set again only when the connection's differs: the one a sweep or a
            # console turn wants is usually the one it has).
            wait = lock_wait_ms()
            timeout = SQLITE_BUSY_TIMEOUT_MS if wait is None else wait
            info = conn.connection.info  # the DBAPI connection's, kept while it lives
            if info.get(_BUSY_TIMEOUT) != timeout:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={timeout}")
                info[_BUSY_TIMEOUT] = timeout
            # Writers take the write lock up front, so two writers never deadlock upgrading a
            # read lock; read-only units begin deferred and run beside them (WAL).
            if conn.get_execution_options().get(READ_ONLY_OPTION):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)

    @event.listens_for(engine, "begin")
    def _pg_begin(conn: Any) -> None:
        # Inside a request, waiting for a row or table lock is bounded by what is left of the budget.
        wait = lock_wait_ms()
        if wait is not None:
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, wait)}")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session], *, read_only: bool = False) -> Iterator[Session]:
    """One transaction: commit when the block ends, roll back everything if it raises.

    A lock not granted in time (see request_budget) raises DatabaseBusy, after the rollback.
    """
    session = factory()
    try:
        if read_only:
            session.connection(execution_options={READ_ONLY_OPTION: True})
        yield session
        session.commit()
    except BaseException as e:
        session.rollback()
        if is_busy(e):
            raise DatabaseBusy(str(getattr(e, "orig", e))) from e
        raise
    finally:
        session.close()


def dialect_insert(session: Session, table: Any) -> Any:
    """The insert of the session's database's own dialect, which has on_conflict_do_nothing
    (SQLite and PostgreSQL spell it alike). The dialect's module is imported here, where the engine has
    loaded it already: a process on SQLite never imports PostgreSQL's dialect (~25 ms with the
    adapters its package imports)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def ping(engine: Engine) -> bool:
    """True when the database answers."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
