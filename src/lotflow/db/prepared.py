"""Prepared statements: SQLAlchemy Core statements compiled once per dialect and run straight on
the DBAPI cursor, for the few statements a hot request path runs several times per request."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

__all__ = ["Prepared"]


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
