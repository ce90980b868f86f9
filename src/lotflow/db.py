"""The database through SQLAlchemy Core: SQLite by default, any SQLAlchemy URL otherwise.

``read()`` and ``write()`` yield a connection inside a transaction that commits when the block
ends and rolls back when it raises. Nothing in the API is SQLite-only; a ``postgresql://`` URL
uses psycopg 3 unchanged.

On SQLite the database runs in WAL mode (readers never wait for the writer), with a busy timeout
and foreign keys on, and ``write()`` starts its transaction with ``BEGIN IMMEDIATE``: writers
queue for the write lock at the start instead of failing with ``database is locked`` when a read
turns into a write halfway through. This is SQLAlchemy's documented pysqlite recipe: pysqlite's
own transaction handling is switched off and the ``begin`` event emits ``BEGIN`` itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from lotflow.errors import ConfigError

__all__ = ["Database", "sqlite_url"]

_WRITE_OPTION = "lotflow_write"
_POSTGRES_ALIASES = ("postgres", "postgresql")


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite database file."""
    return f"sqlite:///{path.resolve()}"


class Database:
    """An engine plus transaction helpers; ``busy_timeout_ms`` applies to SQLite only."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000, echo: bool = False) -> None:
        self.url = _normalise(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine: Engine = create_engine(self.url, echo=echo, pool_pre_ping=not self.is_sqlite)
        self._writer_lock: AbstractContextManager[Any] = (
            threading.Lock() if self.is_sqlite else nullcontext()
        )
        if self.is_sqlite:
            _use_sqlite_recipe(self.engine, busy_timeout_ms)

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (one consistent snapshot on SQLite WAL)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction (``BEGIN IMMEDIATE`` on SQLite).

        On SQLite the writers of this process queue on a lock before asking for the database's:
        SQLite's own busy handler waits by sleeping in growing steps (up to 100 ms), which under
        dozens of concurrent writers turns a 1 ms transaction into a tail of hundreds of
        milliseconds. Writers in other processes are still arbitrated by SQLite itself.
        """
        with self._writer_lock, self.engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def create_all(self, metadata: MetaData) -> None:
        """Create the tables of ``metadata`` that do not exist yet."""
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _normalise(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"Database URL {url!r} is not a SQLAlchemy URL; expected e.g. "
            "sqlite:///./lotflow.sqlite3 or postgresql://user:password@host/db."
        ) from exc
    if parsed.drivername in _POSTGRES_ALIASES:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _use_sqlite_recipe(engine: Engine, busy_timeout_ms: int) -> None:
    pragmas = (
        "PRAGMA journal_mode=WAL",
        f"PRAGMA busy_timeout={int(busy_timeout_ms)}",
        "PRAGMA foreign_keys=ON",
        "PRAGMA synchronous=NORMAL",
    )

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite must not BEGIN on its own
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    def on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
