"""Change counters: a number that every committed insert, update or delete on some tables
moves, whoever writes (a trigger in the database, so another process or a hand-written
statement moves it too); caches of query results are labelled with it.

On SQLite an ``AFTER`` trigger per table and change adds one per changed row. On PostgreSQL a
deferred constraint trigger adds one per committing transaction that changed a counted table: it
runs at commit, so the counter's row lock is the last one the transaction takes and is held only
while it commits; a transaction-local setting makes its further rows skip the update. Either
way, a counter read before a query labels the query's result: the tables are at least as new as
the label, and while the counter reads the same, nothing was committed to them since.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from sqlalchemy import Connection, Engine, Table, text
from sqlalchemy.exc import DBAPIError

__all__ = ["ChangeCounters", "PostgresChangeCounters", "SQLiteChangeCounters"]

_NAME = re.compile(r"[a-z_]+")
TABLE = "lotflow_change_counters"


class ChangeCounters:
    """The change counters of one database (see :func:`for_engine`)."""

    @staticmethod
    def check_names(name: str, tables: tuple[Table, ...]) -> None:
        """``ValueError`` unless the counter and table names are ``[a-z_]+`` (DDL takes no
        parameters, so only such names are ever written into it)."""
        if not _NAME.fullmatch(name) or not all(_NAME.fullmatch(t.name) for t in tables):
            raise ValueError(f"change counter and table names are [a-z_]+, not {name!r}")

    @staticmethod
    def for_engine(engine: Engine) -> ChangeCounters | None:
        """The counters of ``engine``'s database: SQLite files and PostgreSQL keep them; other
        databases (in-memory SQLite among them: one connection's own) do not (None)."""
        dialect = engine.dialect.name
        if dialect == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            return SQLiteChangeCounters(engine)
        if dialect == "postgresql":
            return PostgresChangeCounters(engine)
        return None

    def install(self, conn: Connection, name: str, tables: tuple[Table, ...]) -> None:
        """Create the counter ``name`` and its triggers on ``tables`` if missing (in the
        caller's write transaction)."""
        raise NotImplementedError

    def value(self, name: str) -> int | None:
        """The committed value of ``name``, or None when it was never set up."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what reading the counters holds."""


class SQLiteChangeCounters(ChangeCounters):
    """Read on a connection of their own (one statement, no transaction: the latest commit)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._probe: Any = None
        self._lock = threading.Lock()

    def install(self, conn: Connection, name: str, tables: tuple[Table, ...]) -> None:
        self.check_names(name, tables)
        conn.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "
            "(name VARCHAR(64) PRIMARY KEY, value INTEGER NOT NULL)"
        )
        insert = f"INSERT OR IGNORE INTO {TABLE} (name, value) VALUES (?, 0)"  # noqa: S608
        conn.exec_driver_sql(insert, (name,))
        for table in tables:
            for change in ("INSERT", "UPDATE", "DELETE"):
                conn.exec_driver_sql(_sqlite_trigger(name, table.name, change))

    def value(self, name: str) -> int | None:
        with self._lock:
            if self._probe is None:
                probe = self.engine.raw_connection()
                probe.detach()  # a connection of its own, reading the latest commit each time
                self._probe = probe
            cursor = self._probe.cursor()
            try:
                cursor.execute(f"SELECT value FROM {TABLE} WHERE name = ?", (name,))  # noqa: S608
                row = cursor.fetchone()
            except self.engine.dialect.loaded_dbapi.OperationalError:
                return None  # no counters table: never set up
            finally:
                cursor.close()
        return int(row[0]) if row is not None else None

    def close(self) -> None:
        with self._lock:
            if self._probe is not None:
                self._probe.close()
                self._probe = None


def _sqlite_trigger(name: str, table: str, change: str) -> str:
    """The DDL of one change-counting trigger (DDL takes no parameters; both names matched
    ``_NAME``, ``change`` is INSERT, UPDATE or DELETE)."""
    head = f"CREATE TRIGGER IF NOT EXISTS lotflow_count_{name}_{table}_{change.lower()}"
    body = f"UPDATE {TABLE} SET value = value + 1 WHERE name = '{name}'"  # noqa: S608
    return f"{head} AFTER {change} ON {table} BEGIN {body}; END"


_POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION lotflow_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    flag text := 'lotflow.counted_' || TG_ARGV[0];
BEGIN
    IF coalesce(current_setting(flag, true), '') = '' THEN
        PERFORM set_config(flag, '1', true);  -- true: until this transaction ends
        UPDATE {TABLE} SET value = value + 1 WHERE name = TG_ARGV[0];
    END IF;
    RETURN NULL;
END
$$
"""  # noqa: S608 - no value from outside: TABLE is this module's


class PostgresChangeCounters(ChangeCounters):
    """Read on a pooled connection in autocommit (one statement: the latest commit). Not on a
    connection of their own as on SQLite: behind one lock, 40 handler threads queued for it
    and list-lots fell from 1,379/s to 253/s (``nox -s bench -- --postgres URL``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def install(self, conn: Connection, name: str, tables: tuple[Table, ...]) -> None:
        self.check_names(name, tables)
        # two portals starting on one database at once would both create what is missing
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:what))"), {"what": TABLE})
        conn.exec_driver_sql(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "
            "(name VARCHAR(64) PRIMARY KEY, value BIGINT NOT NULL)"
        )
        insert = f"INSERT INTO {TABLE} (name, value) VALUES (:name, 0) ON CONFLICT DO NOTHING"  # noqa: S608
        conn.execute(text(insert), {"name": name})
        conn.exec_driver_sql(_POSTGRES_FUNCTION)
        for table in tables:
            trigger = f"lotflow_count_{name}_{table.name}"
            exists = conn.execute(
                text("SELECT 1 FROM pg_trigger WHERE tgname = :t AND tgrelid = to_regclass(:r)"),
                {"t": trigger, "r": table.name},
            ).first()
            if exists is None:
                conn.exec_driver_sql(
                    f"CREATE CONSTRAINT TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE "
                    f"ON {table.name} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                    f"EXECUTE FUNCTION lotflow_count_change('{name}')"
                )

    def value(self, name: str) -> int | None:
        query = text(f"SELECT value FROM {TABLE} WHERE name = :name")  # noqa: S608
        try:
            with self.engine.connect() as conn:
                auto = conn.execution_options(isolation_level="AUTOCOMMIT")
                found = auto.execute(query, {"name": name}).scalar()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == "42P01":  # undefined_table: never set up
                return None
            raise
        return int(found) if found is not None else None
