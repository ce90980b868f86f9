"""Entities stored as their JSON document plus the indexed columns used to filter and arbitrate.

Reads splice stored JSON straight into responses; writes are conditional on the version that was
read, so a concurrent change makes the later write fail cleanly (409) instead of overwriting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
)

from lotflow.clock import isoformat
from lotflow.http import Reply
from lotflow.problems import Problem

Doc = dict[str, Any]


def doc_table(name: str, metadata: MetaData, *columns: Any) -> Table:
    """A table with ``id``, ``version`` and ``doc`` plus the given indexed columns/constraints."""
    return Table(
        name,
        metadata,
        Column("id", String(40), primary_key=True),
        Column("version", Integer, nullable=False),
        *columns,
        Column("doc", Text, nullable=False),
    )


def dumps(doc: Any) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def insert(conn: Connection, table: Table, doc: Doc, **columns: Any) -> None:
    conn.execute(
        table.insert().values(id=doc["_id"], version=doc["version"], doc=dumps(doc), **columns)
    )


def update(conn: Connection, table: Table, doc: Doc, previous_version: int, **columns: Any) -> None:
    """Store ``doc`` if the row still has ``previous_version``; otherwise 409 version_conflict."""
    result = conn.execute(
        table.update()
        .where(table.c.id == doc["_id"], table.c.version == previous_version)
        .values(version=doc["version"], doc=dumps(doc), **columns)
    )
    if result.rowcount != 1:
        raise Problem.conflict(
            "version_conflict",
            f"{table.name[:-1]} {doc['_id']} changed concurrently; read it again and retry.",
        )


def get(conn: Connection, table: Table, ident: str, *conditions: ColumnElement[bool]) -> Doc | None:
    row = conn.execute(select(table.c.doc).where(table.c.id == ident, *conditions)).first()
    return json.loads(row[0]) if row else None


def require(
    conn: Connection, table: Table, ident: str, *conditions: ColumnElement[bool], what: str
) -> Doc:
    """The document, or a 404 problem: another tenant's entity is reported as not found."""
    doc = get(conn, table, ident, *conditions)
    if doc is None:
        raise Problem.not_found(what, ident)
    return doc


def find(
    conn: Connection, table: Table, *conditions: ColumnElement[bool], order: Any = None
) -> list[Doc]:
    query = select(table.c.doc).where(*conditions)
    if order is not None:
        query = query.order_by(order)
    return [json.loads(r[0]) for r in conn.execute(query)]


def page(
    conn: Connection,
    table: Table,
    conditions: Sequence[ColumnElement[bool]],
    order: Any,
    limit: int,
    offset: int,
) -> tuple[list[str], int]:
    """One page of stored documents (raw JSON) and the total count matching ``conditions``."""
    ordering = order if isinstance(order, tuple) else (order,)
    rows = conn.execute(
        select(table.c.doc).where(*conditions).order_by(*ordering).limit(limit).offset(offset)
    ).all()
    if offset == 0 and len(rows) < limit:
        return [r[0] for r in rows], len(rows)
    total = conn.execute(select(func.count()).select_from(table).where(*conditions)).scalar_one()
    return [r[0] for r in rows], int(total)


def splice(key: str, docs: Sequence[str], count: int) -> bytes:
    """``{"<key>": [docs...], "count": n}`` built from stored JSON without re-encoding."""
    return f'{{"{key}":[{",".join(docs)}],"count":{count}}}'.encode()


def changed(doc: Doc, now: datetime, **changes: Any) -> Doc:
    """A copy of ``doc`` with ``changes``, the next version and ``updatedAt`` = now."""
    return {**doc, **changes, "version": doc["version"] + 1, "updatedAt": isoformat(now)}


def equal_to(
    table: Table, query: Mapping[str, Any], columns: Mapping[str, str]
) -> list[ColumnElement[bool]]:
    """Equality filters for the query parameters present: parameter name → column name."""
    return [table.c[column] == query[name] for name, column in columns.items() if name in query]


def page_reply(
    conn: Connection,
    table: Table,
    key: str,
    conditions: Sequence[ColumnElement[bool]],
    query: Mapping[str, Any],
    order: Any = None,
) -> Reply:
    """A ``{"<key>": [...], "count": n}`` page, newest first unless ``order`` says otherwise."""
    ordering = order if order is not None else (table.c.created_at.desc(), table.c.id.desc())
    limit, offset = query.get("limit", 50), query.get("offset", 0)
    docs, count = page(conn, table, conditions, ordering, limit, offset)
    return Reply(200, raw_json=splice(key, docs, count))
