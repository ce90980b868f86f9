"""The database, through SQLAlchemy Core: SQLite by default, any SQLAlchemy URL otherwise.

``read()`` and ``write()`` yield a connection inside a transaction. On SQLite, write transactions
start with ``BEGIN IMMEDIATE`` (so two writers queue on the lock instead of failing with
SQLITE_BUSY halfway through a read-modify-write) and the database runs in WAL mode, so readers
never wait for writers. Races are arbitrated by conditional updates and unique constraints.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from lotflow.errors import ConfigError


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class Database:
    """An engine plus transaction helpers."""

    def __init__(self, url: str) -> None:
        self.url = _normalise(url)
        self.is_sqlite = self.url.startswith("sqlite")
        options: dict[str, Any] = {"pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            options.update(pool_size=10, max_overflow=20)
        self.engine: Engine = create_engine(self.url, **options)
        if self.is_sqlite:
            _configure_sqlite(self.engine)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    def create_all(self, metadata: MetaData) -> None:
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()


def _normalise(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"Database URL {url!r} is not a SQLAlchemy URL; expected e.g. "
            "sqlite:///./lotflow.sqlite3 or postgresql://user:pass@host/db."
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
