"""Change counters: a number that every committed insert, update or delete on some tables
moves, whoever writes (SQLite triggers); caches of query results are labelled with it."""

from __future__ import annotations

import re
import threading
from typing import Any

from sqlalchemy import Connection, Engine, Table

__all__ = ["ChangeCounters"]

_NAME = re.compile(r"[a-z_]+")


class ChangeCounters:
    """The change counters of one SQLite database file, read on a connection of their own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._probe: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def check_names(name: str, tables: tuple[Table, ...]) -> None:
        """``ValueError`` unless the counter and table names are ``[a-z_]+`` (DDL takes no
        parameters, so only such names are ever written into it)."""
        if not _NAME.fullmatch(name) or not all(_NAME.fullmatch(t.name) for t in tables):
            raise ValueError(f"change counter and table names are [a-z_]+, not {name!r}")

    def install(self, conn: Connection, name: str, tables: tuple[Table, ...]) -> None:
        """Create the counter ``name`` and its triggers on ``tables`` if missing (in the
        caller's write transaction)."""
        self.check_names(name, tables)
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

    def value(self, name: str) -> int | None:
        """The committed value of ``name``, or None when it was never set up."""
        with self._lock:
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

    def close(self) -> None:
        """Close the counters' own connection."""
        with self._lock:
            if self._probe is not None:
                self._probe.close()
                self._probe = None


def _trigger(name: str, table: str, change: str) -> str:
    """The DDL of one change-counting trigger (DDL takes no parameters; both names matched
    ``_NAME``, ``change`` is INSERT, UPDATE or DELETE)."""
    head = f"CREATE TRIGGER IF NOT EXISTS lotflow_count_{name}_{table}_{change.lower()}"
    body = f"UPDATE lotflow_change_counters SET value = value + 1 WHERE name = '{name}'"  # noqa: S608
    return f"{head} AFTER {change} ON {table} BEGIN {body}; END"
