"""The engine and its transactions: SQLite set up for concurrent use, any SQLAlchemy URL."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from lotflow.db.counters import ChangeCounters
from lotflow.db.group import WRITE_OPTION, GroupMember, Writers, inline_writes, member_here
from lotflow.errors import ConfigError

__all__ = ["Database", "sqlite_url"]

log = logging.getLogger("lotflow.db")

_POSTGRES_ALIASES = ("postgres", "postgresql")
INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's SQLSTATE


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite database file."""
    return f"sqlite:///{path.resolve()}"


POOL_SIZE = 40
"""Connections a server database's pool keeps open: as many as the threads that run handlers
(Starlette's threadpool has 40), so that under load no request opens a connection of its own
and closes it after (SQLAlchemy's default of 5 kept and 10 more made and dropped per request
spent most of a request's CPU on connecting)."""


def _pool_options(is_sqlite: bool) -> dict[str, Any]:
    if is_sqlite:
        return {}
    # pre-ping: a connection the server dropped (a restart, an idle timeout) is replaced on
    # checkout, not failed on a request.
    return {"pool_size": POOL_SIZE, "max_overflow": POOL_SIZE // 2, "pool_pre_ping": True}


class Database:
    """An engine plus transaction helpers; ``busy_timeout_ms`` applies to SQLite only."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000, echo: bool = False) -> None:
        self.url = _normalise(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine: Engine = create_engine(self.url, echo=echo, **_pool_options(self.is_sqlite))
        self._writers = Writers(self.engine) if self.is_sqlite else None
        self._counters = ChangeCounters.for_engine(self.engine)
        self._counted: set[str] = set()  # the counters this object set up (count_changes)
        if self.is_sqlite:
            _use_sqlite_recipe(self.engine, busy_timeout_ms)

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @property
    def waiting_writers(self) -> int:
        """Threads of this process queued for the SQLite writer lock or holding it (0
        elsewhere): while there is one, no new group commit opens."""
        return self._writers.waiting if self._writers is not None else 0

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection to read with: in a read transaction on SQLite (WAL: one consistent
        snapshot for every statement of the block); on a server database, in autocommit.

        A server database's default isolation (PostgreSQL's READ COMMITTED) gives each
        statement a snapshot of its own even inside a transaction, so a read transaction there
        would only add its BEGIN and COMMIT: two round trips of a cached read's four.

        Inside :meth:`inline_writes`, once the caller has written, its reads use the shared
        write transaction, so that they see its own writes.
        """
        member = member_here()
        if member is not None and member.group is not None:
            yield member.group.conn
            return
        if not self.is_sqlite:
            with self.engine.connect() as conn:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction (``BEGIN IMMEDIATE`` on SQLite).

        On SQLite the writers of this process queue on a lock before asking for the database's:
        SQLite's own busy handler waits by sleeping in growing steps (up to 100 ms), which under
        dozens of concurrent writers turns a 1 ms transaction into a tail of hundreds of
        milliseconds. Writers in other processes are still arbitrated by SQLite itself.

        Inside :meth:`inline_writes` the block is a savepoint of the group's transaction instead:
        when it raises, exactly its own changes are rolled back.
        """
        member = member_here()
        if member is not None:
            with member.unit() as conn:
                yield conn
            return
        queued = self._writers.queued() if self._writers is not None else nullcontext()
        with queued, self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def inline_writes(self) -> Iterator[GroupMember | None]:
        """Group commit, for short write transactions run on the event loop (SQLite only).

        Yields None (and changes nothing) unless this is SQLite, an event loop runs in this
        thread and no other thread of the process is writing or waiting to write (a waiting
        thread gets the lock when the open group commits: groups cannot starve it). Otherwise,
        for the block, ``write()`` joins the loop's open *group*: one ``BEGIN IMMEDIATE``
        transaction that every writer of the same turn of the event loop shares, each inside a
        savepoint of its own, committed once on the loop's next turn. A commit costs far more
        than the statements of a short transaction, so concurrent requests pay it once between
        them. The caller must ``await member.committed()`` before it tells anyone that its
        writes happened (that raises when the group's commit failed: then none of them did).
        """
        with inline_writes(self._writers) as member:
            yield member

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once what was just written is committed: now, or, inside
        :meth:`inline_writes`, when the group commits (never, if that fails)."""
        member = member_here()
        if member is None or not member.after_commit(callback):
            callback()

    def count_changes(self, name: str, *tables: Table) -> None:
        """Keep a change counter ``name`` that every committed insert, update or delete on
        ``tables`` moves, whoever writes (another process, a hand-written statement): triggers
        on a SQLite file or PostgreSQL, created if missing (:mod:`.counters`). Elsewhere
        nothing is kept and :meth:`change_counter` answers None; so it does, with a warning,
        when a PostgreSQL role may not create the triggers (the caches then stay off)."""
        ChangeCounters.check_names(name, tables)
        if self._counters is None:
            return
        try:
            with self.write() as conn:
                self._counters.install(conn, name, tables)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
                raise
            log.warning(
                "The change counter %r needs a table, a function and triggers this database "
                "role may not create (%s): what it labels is not cached. Run the portal with "
                "a role that may (CREATE on the schema), or leave the cache off.",
                name,
                _first_line(exc.orig),
            )
            return
        self._counted.add(name)

    def change_counter(self, name: str) -> int | None:
        """The committed value of the change counter ``name`` (see :meth:`count_changes`), or
        None when there is none (neither a SQLite file nor PostgreSQL, or this database object
        did not set it up: a counters table without its triggers would label stale results).

        Read before a query on the counted tables, it labels the query's result: a result
        labelled with the value read now is still current. The read is one statement outside
        any transaction (on SQLite on a connection of its own: microseconds).
        """
        if self._counters is None or name not in self._counted:
            return None
        return self._counters.value(name)

    def create_all(self, metadata: MetaData) -> None:
        """Check that the database can be used, then create the tables of ``metadata`` that do
        not exist yet. ``ConfigError`` naming the database and what to do when it cannot: a
        SQLite file in a missing folder, a file that is not a database or fails SQLite's
        integrity check, a server that cannot be reached."""
        self._check_sqlite_file()
        try:
            self._check_integrity()
            metadata.create_all(self.engine)
        except DBAPIError as exc:
            raise ConfigError(
                f"Cannot use the database {self._shown()}: {_first_line(exc.orig)}. "
                f"{self._advice()}"
            ) from None

    def _shown(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def _file(self) -> Path | None:
        """The SQLite database file, if this is one (not in memory)."""
        name = self.url.database
        return Path(name) if self.is_sqlite and name not in (None, "", ":memory:") else None

    def _check_sqlite_file(self) -> None:
        path = self._file()
        if path is not None and not path.resolve().parent.is_dir():
            raise ConfigError(
                f"The database file {path} is in a folder that does not exist "
                f"({path.resolve().parent}); create the folder, or give another path "
                "(LOTFLOW_DATABASE_URL or --database-url)."
            )

    def _check_integrity(self) -> None:
        """SQLite's quick integrity check of an existing file (its first finding, if any)."""
        path = self._file()
        if path is None or not path.is_file() or path.stat().st_size == 0:
            return
        with self.engine.connect() as conn:
            found = conn.exec_driver_sql("PRAGMA quick_check(1)").scalar()
        if found != "ok":
            raise ConfigError(
                f"The database file {path} fails SQLite's integrity check "
                f"({' '.join(str(found).split())}). "
                f"{self._advice()}"
            )

    def _advice(self) -> str:
        path = self._file()
        if path is not None:
            return (
                f"Restore {path} from a backup, or move it aside to start on an empty database "
                "(the portal creates its tables)."
            )
        return "Check that the server runs, the URL (host, port, database, user) and the password."

    def dispose(self) -> None:
        """Close every pooled connection (and the change counters')."""
        if self._counters is not None:
            self._counters.close()
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
    """WAL, a busy timeout and foreign keys on every connection, and ``BEGIN`` (or ``BEGIN
    IMMEDIATE`` for a write) emitted by SQLAlchemy's ``begin`` event: SQLAlchemy's documented
    pysqlite recipe, with pysqlite's own transaction handling off."""
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
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        driver = conn.connection.driver_connection  # straight to pysqlite: on every request
        assert driver is not None
        driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
