"""Documents in tables, for both reference portals: insert, read, conditionally update, page,
and splice into responses.

A :class:`Kind` names an entity's table and how its indexed columns derive from its document, so
that a document and its columns never disagree. Every table of a kind is made by
:func:`entity_table` (``seq`` orders rows created in the same instant; ``id``, ``status``,
``version``, ``created_at`` and the JSON ``doc``, plus the kind's own columns). Updates are
conditional on the version that was read (``WHERE id = ? AND version = ?``, and optionally the
status): when another transaction changed the row first, the update touches nothing and
:class:`StaleWrite` is raised, which rolls the whole transaction back and is answered 409
``version_conflict``. :func:`require` is "the caller's entity, or not found" (another tenant's
entity is reported as absent). Storage raises domain errors only (``lotflow.errors``); the HTTP
boundary turns them into problems.

Documents are stored as ASCII JSON, so the stored text is the exact bytes a response splices in.
The statements of the frequent operations are built once per shape and run as
:class:`lotflow.db.Prepared` statements, straight on the driver's cursor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    select,
    update,
)

from lotflow import jsontext
from lotflow.db import Prepared
from lotflow.errors import ConflictError, NotFoundError

__all__ = [
    "ID",
    "STAMP",
    "Doc",
    "Kind",
    "Page",
    "StaleWrite",
    "dumps",
    "encode",
    "entity_table",
    "equal_to",
    "fetch",
    "fetch_where",
    "insert",
    "loads",
    "page",
    "require",
    "revise",
    "save",
    "splice_list",
    "splice_one",
    "text_column",
]

Doc = dict[str, Any]
ID = 24  # an ObjectId's 24 hex characters
STAMP = 32  # lotflow.clock.isoformat: fixed width, so text order is time order


class StaleWrite(ConflictError):  # noqa: N818 - named for what happened, answered as a 409
    """A conditional update found the row changed by another transaction; nothing was changed."""

    def __init__(self, kind: str, entity_id: str) -> None:
        super().__init__(
            f"The {kind} {entity_id} changed while this request was handled; nothing was "
            "changed. Read it again and retry.",
            "version_conflict",
        )
        self.kind = kind
        self.entity_id = entity_id


def entity_table(
    name: str, metadata: MetaData, *columns: Column[Any] | Index | UniqueConstraint
) -> Table:
    """A document table: ``seq`` key, unique ``id``, ``status``, ``version``, ``created_at`` and
    the JSON ``doc``, plus the kind's own columns and constraints."""
    return Table(
        name,
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("id", String(ID), nullable=False, unique=True),
        Column("status", String(32), nullable=False),
        Column("version", Integer, nullable=False),
        Column("created_at", String(STAMP), nullable=False),
        Column("doc", Text, nullable=False),
        *columns,
    )


@dataclass(frozen=True, eq=False)
class Kind:
    """An entity kind: its name (as a person reads it), its table, its indexed columns computed
    from a document, the member that carries it in payloads and answers (``part``: ``lot``,
    ``counterOffer``), and ``links``: the fields that hold another entity's id, with its kind."""

    name: str
    table: Table
    columns: Callable[[Doc], dict[str, Any]]
    part: str = ""
    links: Mapping[str, Kind] = field(default_factory=dict)


def dumps(value: Any) -> str:
    """Compact JSON text, valid UTF-8 whatever the strings hold (:mod:`lotflow.jsontext`)."""
    return jsontext.dumps(value)


def encode(value: Any) -> bytes:
    """A JSON body as bytes."""
    return jsontext.encode(value)


def loads(text: str) -> Doc:
    """A stored document."""
    doc: Doc = json.loads(text)
    return doc


def text_column(value: str) -> str:
    """Text fit for an indexed column on any database: no NUL, no lone surrogates."""
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _row_values(kind: Kind, doc: Doc) -> dict[str, Any]:
    return {"version": doc["version"], "doc": dumps(doc), **kind.columns(doc)}


def insert(conn: Connection, kind: Kind, doc: Doc, **extra: Any) -> str:
    """Insert a new document (``extra``: columns that are not derived from it); its stored JSON
    text is returned (for :func:`splice_one`)."""
    values = {"id": doc["_id"], "created_at": doc["createdAt"], **_row_values(kind, doc), **extra}
    _insert_statement(kind, tuple(values)).rowcount(conn, values)
    text: str = values["doc"]
    return text


@lru_cache(maxsize=64)
def _insert_statement(kind: Kind, columns: tuple[str, ...]) -> Prepared:
    """``INSERT INTO ... (columns) VALUES (...)``, prepared once per shape."""
    return Prepared(kind.table.insert(), column_keys=columns)


def revise(doc: Doc, stamp: str, **changes: Any) -> Doc:
    """A new revision of ``doc``: the changes, ``version`` + 1 and ``updatedAt``."""
    return {**doc, **changes, "version": doc["version"] + 1, "updatedAt": stamp}


def save(conn: Connection, kind: Kind, old: Doc, new: Doc, *, status: str | None = None) -> None:
    """Write ``new`` over ``old`` if the row is still at ``old``'s version (and, when given, in
    ``status``); raise :class:`StaleWrite` otherwise."""
    values = _row_values(kind, new)
    params = {f"new_{column}": value for column, value in values.items()}
    params |= {"old_id": old["_id"], "old_version": old["version"], "old_status": status}
    statement = _update_statement(kind, tuple(values), status is not None)
    if statement.rowcount(conn, params) != 1:
        raise StaleWrite(kind.name, old["_id"])


@lru_cache(maxsize=64)
def _update_statement(kind: Kind, columns: tuple[str, ...], by_status: bool) -> Prepared:
    """``UPDATE ... WHERE id = ? AND version = ? [AND status = ?]``, prepared once per shape."""
    table = kind.table
    where = [table.c.id == bindparam("old_id"), table.c.version == bindparam("old_version")]
    if by_status:
        where.append(table.c.status == bindparam("old_status"))
    values: dict[str, Any] = {c: bindparam(f"new_{c}") for c in columns}
    return Prepared(update(table).where(*where).values(values))


def fetch(conn: Connection, kind: Kind, entity_id: str, **where: str) -> Doc | None:
    """The document with ``entity_id`` when its columns equal ``where`` (``not_status``: its
    status differs from the value)."""
    statement = _select_statement(kind, tuple(sorted(where)))
    row = statement.first(conn, {"id": entity_id, **where})
    return loads(row[0]) if row is not None else None


def require(conn: Connection, kind: Kind, entity_id: str, **where: str) -> Doc:
    """The document with ``entity_id`` whose columns equal ``where`` (the caller's own), else
    :class:`~lotflow.errors.NotFoundError` naming the kind: an entity of another organisation
    is not found, never forbidden."""
    doc = fetch(conn, kind, entity_id, **where)
    if doc is None:
        raise NotFoundError(kind.name, entity_id)
    return doc


@lru_cache(maxsize=64)
def _select_statement(kind: Kind, keys: tuple[str, ...]) -> Prepared:
    """``SELECT doc ... WHERE id = ? AND ...``, prepared once per combination of filters."""
    table = kind.table
    where = [table.c.id == bindparam("id")]
    for key in keys:
        if key == "not_status":
            where.append(table.c.status != bindparam(key))
        else:
            where.append(table.c[key] == bindparam(key))
    return Prepared(select(table.c.doc).where(*where))


def fetch_where(
    conn: Connection, kind: Kind, *conditions: ColumnElement[bool], limit: int | None = None
) -> list[Doc]:
    """The documents matching ``conditions`` (at most ``limit``), oldest first."""
    table = kind.table
    statement = select(table.c.doc).where(*conditions).order_by(table.c.seq).limit(limit)
    return [loads(text) for text in conn.execute(statement).scalars()]


def equal_to(
    table: Table, query: Mapping[str, Any], columns: Mapping[str, str]
) -> list[ColumnElement[bool]]:
    """Equality filters for the query parameters given (not None): parameter → column name."""
    return [
        table.c[column] == query[name]
        for name, column in columns.items()
        if query.get(name) is not None
    ]


@dataclass(frozen=True)
class Page:
    """One page of stored documents (their JSON text) and the total count."""

    docs: list[str]
    count: int


def page(
    conn: Connection,
    table: Table,
    conditions: Iterable[ColumnElement[bool]],
    *,
    limit: int,
    offset: int,
    newest_first: bool = True,
) -> Page:
    """A page of ``table``'s documents matching ``conditions``; one query when the page is not
    empty (the total rides along as a window count)."""
    where = list(conditions)
    order: Sequence[Any] = (
        (table.c.created_at.desc(), table.c.seq.desc())
        if newest_first
        else (table.c.created_at.asc(), table.c.seq.asc())
    )
    total = func.count().over().label("total")
    statement = select(table.c.doc, total).where(*where).order_by(*order)
    rows = conn.execute(statement.limit(limit).offset(offset)).all()
    if rows:
        return Page([row[0] for row in rows], int(rows[0][1]))
    count = conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    return Page([], int(count))


def splice_list(key: str, found: Page) -> bytes:
    """``{"<key>": [docs...], "count": n}`` from stored JSON text, without re-encoding."""
    docs = ",".join(found.docs).encode()
    return b'{"%s":[%s],"count":%d}' % (key.encode(), docs, found.count)


def splice_one(key: str, text: str) -> bytes:
    """``{"<key>": doc}`` from a stored document's JSON text."""
    return b'{"' + key.encode() + b'":' + text.encode() + b"}"
