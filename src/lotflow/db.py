"""The database through SQLAlchemy Core: SQLite by default, any SQLAlchemy URL otherwise.

``read()`` and ``write()`` yield a connection inside a transaction that commits when the block
ends and rolls back when it raises. Nothing in the API is SQLite-only; a ``postgresql://`` URL
uses psycopg 3 unchanged.

On SQLite the database runs in WAL mode (readers never wait for the writer), with a busy timeout
and foreign keys on, and ``write()`` starts its transaction with ``BEGIN IMMEDIATE``: writers
queue for the write lock at the start instead of failing with ``database is locked`` when a read
turns into a write halfway through. This is SQLAlchemy's documented pysqlite recipe: pysqlite's
own transaction handling is switched off and the ``begin`` event emits ``BEGIN`` itself.

Three helpers serve the hot paths of a server on SQLite: ``inline_writes()`` (group commit for
short write transactions run on the event loop), ``Prepared`` (statements run straight on the
driver's cursor) and change counters (``count_changes()``/``change_counter()``: a number that
any committed change to some tables moves, whoever makes it; caches of query results key on
it).
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, MetaData, Table, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from lotflow.errors import ConfigError

__all__ = ["Database", "GroupMember", "Prepared", "sqlite_url"]

log = logging.getLogger("lotflow.db")

_WRITE_OPTION = "lotflow_write"
_NAME = re.compile(r"[a-z_]+")
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
        self._writer_lock = threading.RLock() if self.is_sqlite else None
        self._counts_changes = self.is_sqlite and self.url.database not in (None, "", ":memory:")
        self._probe: Any = None
        self._probe_lock = threading.Lock()
        self._group: _Group | None = None
        self._waiting = 0  # threads queued for the writer lock
        self._waiting_lock = threading.Lock()
        if self.is_sqlite:
            _use_sqlite_recipe(self.engine, busy_timeout_ms)

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (one consistent snapshot on SQLite WAL).

        Inside :meth:`inline_writes`, once the caller has written, its reads use the shared
        write transaction, so that they see its own writes.
        """
        member = _member_here()
        if member is not None and member.group is not None:
            yield member.group.conn
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
        member = _member_here()
        if member is not None:
            with member.unit() as conn:
                yield conn
            return
        with self._queued() as lock, lock or nullcontext(), self.engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def _queued(self) -> Iterator[threading.RLock | None]:
        """The writer lock, with this thread counted while it waits for it and holds it (so
        that group commits stop taking the lock over and over while a thread waits)."""
        with self._waiting_lock:
            self._waiting += 1
        try:
            yield self._writer_lock
        finally:
            with self._waiting_lock:
                self._waiting -= 1

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
        lock = self._writer_lock
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if lock is None or loop is None or self._waiting or not lock.acquire(blocking=False):
            yield None
            return
        member = GroupMember(self, loop)
        token = _MEMBER.set(member)
        try:
            yield member
        finally:
            _MEMBER.reset(token)
            lock.release()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once what was just written is committed: now, or, inside
        :meth:`inline_writes`, when the group commits (never, if that fails)."""
        member = _member_here()
        if member is not None and member.group is not None:
            member.group.after.append(callback)
        else:
            callback()

    def _join_group(self, loop: asyncio.AbstractEventLoop) -> _Group:
        group = self._group
        if group is None or group.loop is not loop:
            group = self._group = _Group(self, loop)
        return group

    def count_changes(self, name: str, *tables: Table) -> None:
        """Keep a change counter ``name`` that every committed insert, update or delete on
        ``tables`` moves, whoever writes (another process, a hand-written statement): SQLite
        triggers, created if missing. Elsewhere nothing is kept and :meth:`change_counter`
        answers None."""
        if not _NAME.fullmatch(name) or not all(_NAME.fullmatch(t.name) for t in tables):
            raise ValueError(f"change counter and table names are [a-z_]+, not {name!r}")
        if not self._counts_changes:
            return
        with self.write() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS lotflow_change_counters "
                "(name VARCHAR(64) PRIMARY KEY, value INTEGER NOT NULL)"
            )
            conn.exec_driver_sql(
                "INSERT OR IGNORE INTO lotflow_change_counters (name, value) VALUES (?, 0)", (name,)
            )
            for table in tables:
                for change in ("INSERT", "UPDATE", "DELETE"):
                    conn.exec_driver_sql(_trigger(name, table.name, change))

    def change_counter(self, name: str) -> int | None:
        """The committed value of the change counter ``name`` (see :meth:`count_changes`), or
        None when there is none (not a SQLite file, or never set up).

        Read before a query on the counted tables, it labels the query's result: a result
        labelled with the value read now is still current. The read costs microseconds: one
        statement on a connection of its own, outside any transaction.
        """
        if not self._counts_changes:
            return None
        with self._probe_lock:
            if self._probe is None:
                probe = self.engine.raw_connection()
                probe.detach()  # a connection of its own, reading the latest commit each time
                self._probe = probe
            cursor = self._probe.cursor()
            try:
                cursor.execute("SELECT value FROM lotflow_change_counters WHERE name = ?", (name,))
                row = cursor.fetchone()
            except self.engine.dialect.loaded_dbapi.OperationalError:
                return None  # no counters table: never set up
            finally:
                cursor.close()
        return int(row[0]) if row is not None else None

    def create_all(self, metadata: MetaData) -> None:
        """Create the tables of ``metadata`` that do not exist yet."""
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection (and the change counter's)."""
        with self._probe_lock:
            if self._probe is not None:
                self._probe.close()
                self._probe = None
        self.engine.dispose()


def _trigger(name: str, table: str, change: str) -> str:
    """The DDL of one change-counting trigger (DDL takes no parameters; both names matched
    ``_NAME``, ``change`` is INSERT, UPDATE or DELETE)."""
    head = f"CREATE TRIGGER IF NOT EXISTS lotflow_count_{name}_{table}_{change.lower()}"
    body = f"UPDATE lotflow_change_counters SET value = value + 1 WHERE name = '{name}'"  # noqa: S608
    return f"{head} AFTER {change} ON {table} BEGIN {body}; END"


_MEMBER: ContextVar[GroupMember | None] = ContextVar("lotflow_db_group_member", default=None)


def _member_here() -> GroupMember | None:
    """The group member of the running code, if it runs on that member's thread."""
    member = _MEMBER.get()
    return member if member is not None and member.thread == threading.get_ident() else None


class GroupMember:
    """One caller's share of a group commit (see :meth:`Database.inline_writes`)."""

    def __init__(self, db: Database, loop: asyncio.AbstractEventLoop) -> None:
        self.db = db
        self.loop = loop
        self.thread = threading.get_ident()
        self.group: _Group | None = None

    @contextmanager
    def unit(self) -> Iterator[Connection]:
        """One write block: a savepoint of the group's transaction."""
        if self.group is None:
            self.group = self.db._join_group(self.loop)
        group = self.group
        name = group.savepoint()
        driver = group.driver
        driver.execute(f"SAVEPOINT {name}")
        try:
            yield group.conn
        except BaseException:
            driver.execute(f"ROLLBACK TO {name}")
            driver.execute(f"RELEASE {name}")
            raise
        driver.execute(f"RELEASE {name}")

    async def committed(self) -> None:
        """Return once the group this caller wrote in has committed (at once if it wrote
        nothing); raise what the commit raised."""
        if self.group is not None:
            await asyncio.shield(self.group.done)


class _Group:
    """The shared transaction of one turn of the event loop; commits on the next turn."""

    def __init__(self, db: Database, loop: asyncio.AbstractEventLoop) -> None:
        assert db._writer_lock is not None
        db._writer_lock.acquire()  # reentrant: the member opening the group already holds it
        self.db = db
        self.loop = loop
        self.after: list[Callable[[], None]] = []
        self.done: asyncio.Future[None] = loop.create_future()
        self.savepoints = 0
        try:
            self.conn = db.engine.connect()
            self.conn.execution_options(**{_WRITE_OPTION: True})
            self.transaction = self.conn.begin()
        except BaseException:
            db._writer_lock.release()
            raise
        driver = self.conn.connection.driver_connection
        assert driver is not None
        self.driver: Any = driver
        loop.call_soon(self.commit)

    def savepoint(self) -> str:
        self.savepoints += 1
        return f"lotflow_{self.savepoints}"

    def commit(self) -> None:
        db = self.db
        if db._group is self:
            db._group = None
        try:
            self.transaction.commit()
        except Exception as exc:  # every member learns it from committed()
            log.exception("A group commit of %d write(s) failed", self.savepoints)
            self.conn.invalidate()  # still inside the failed transaction: never reuse it
            self.done.set_exception(exc)
            self.done.exception()  # retrieved here too: no "never retrieved" warning if no waiter
        else:
            self.done.set_result(None)
            for callback in self.after:
                try:
                    callback()
                except Exception:
                    log.exception("An after-commit callback failed")
        finally:
            self.conn.close()
            assert db._writer_lock is not None
            db._writer_lock.release()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # parameter names in placeholder order (positional styles)
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]


class Prepared:
    """A Core statement compiled once per dialect and run straight on the DBAPI cursor.

    For the few statements a hot request path runs several times per request: SQLAlchemy's
    per-execution bookkeeping (cache key, execution context, result wrapping) costs about ten
    times what the driver call does on SQLite. The SQL is still SQLAlchemy's, compiled for the
    connection's dialect (so nothing here is SQLite-only), parameters still go through the
    column types' bind processors, and driver errors are raised as SQLAlchemy's
    (``IntegrityError`` and the rest). Not supported: expanding (``IN``) parameters and result
    types that need converting; results come back as the driver gives them.

        by_id = Prepared(select(table.c.doc).where(table.c.id == bindparam("id")))
        doc = by_id.first(conn, {"id": entity_id})
    """

    def __init__(
        self, statement: ClauseElement, *, column_keys: Sequence[str] | None = None
    ) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: dict[str, _Compiled] = {}

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row, or None."""
        cursor = self._execute(conn, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return tuple(row) if row is not None else None

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run an INSERT, UPDATE or DELETE; the number of rows it touched."""
        cursor = self._execute(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _execute(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        dialect = conn.dialect
        compiled = self._by_dialect.get(dialect.name) or self._compile(dialect)
        values = dict(params)
        for name, process in compiled.processors:
            values[name] = process(values[name])
        args: Any = (
            [values[name] for name in compiled.order] if compiled.order is not None else values
        )
        dbapi = dialect.loaded_dbapi
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, args)
        except dbapi.Error as exc:
            cursor.close()
            raise DBAPIError.instance(
                compiled.sql, args, exc, dbapi.Error, dialect=dialect
            ) from exc
        return cursor

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
        assert isinstance(compiled, SQLCompiler), compiled
        processors = []
        for name, bind in compiled.binds.items():
            if bind.expanding:
                raise ValueError(f"Prepared statements take no expanding parameter ({name})")
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.append((name, process))
        order = tuple(compiled.positiontup or ()) if dialect.positional else None
        result = _Compiled(compiled.string, order, tuple(processors))
        self._by_dialect[dialect.name] = result
        return result


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
        driver = conn.connection.driver_connection  # straight to pysqlite: on every request
        assert driver is not None
        driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
