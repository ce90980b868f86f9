"""The producers' marketplace reads: ``listExternalLots`` and ``getExternalLot`` (never a draft).

These are the portal's hottest paths, so each is one prepared query (statements are built once
per combination of filters, with bound parameters), the stored JSON is spliced into the answer
unchanged, and on SQLite the read runs inline on the event loop (a WAL reader never waits for a
writer, and the round trip to a worker thread would cost more than the query) through the
answer cache of ``answers``, which serves a repeated query without touching the tables while
the database is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from lotflow.reference.buyer.tables import lot_standards, lots
from lotflow.reference.common import store
from lotflow.reference.common.store import text_column
from sqlalchemy import ColumnElement, Connection, Dialect, Select, bindparam, func, select

from lotflow.errors import NotFoundError, SpecError
from lotflow.http import OperationRequest, Reply
from lotflow.openapi import load_portal_spec, operations
from lotflow.threads import in_thread

if TYPE_CHECKING:
    from lotflow.reference.buyer.context import BuyerContext

__all__ = ["get_external_lot", "list_external_lots"]

_GET = select(lots.c.doc).where(lots.c.id == bindparam("id"), lots.c.status != "draft")
_FILTERS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "orgId": lambda: lots.c.org_id == bindparam("orgId"),
    "type": lambda: lots.c.type == bindparam("type"),
    "minPrice": lambda: lots.c.price >= bindparam("minPrice"),
    "maxPrice": lambda: lots.c.price <= bindparam("maxPrice"),
    "search": lambda: lots.c.search_text.like(bindparam("search"), escape="\\"),
}
"""How each optional filter of listExternalLots narrows the query. ``_optional_filters`` holds
it to the operation's declared query parameters, so the spec and this table cannot drift."""
_PAGING = ("status", "limit", "offset", "standards")  # bound apart from the optional filters


@cache
def _optional_filters() -> tuple[str, ...]:
    """The optional filters of listExternalLots, in the order the spec declares them."""
    listing = operations(load_portal_spec("buyer"))["listExternalLots"]
    names = tuple(p["name"] for p in listing.parameters if p.get("in") == "query")
    filters = tuple(name for name in names if name not in _PAGING)
    if set(filters) != set(_FILTERS):
        raise SpecError(
            f"listExternalLots declares the filters {sorted(filters)}; the buyer implements "
            f"{sorted(_FILTERS)}."
        )
    return filters


async def list_external_lots(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """listExternalLots: non-draft lots matching the filters, newest first, with the total
    (``status`` defaults to published, as the spec declares)."""
    query = req.query
    key = ("list", *sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in query.items()))
    answer = await _read(ctx, key, lambda conn: _list(conn, query))
    return Reply(200, raw_json=answer)


async def get_external_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """getExternalLot: a lot unless it is a draft."""
    lot_id = req.path_params["lotId"]
    answer = await _read(ctx, ("get", lot_id), lambda conn: _get(conn, lot_id))
    return Reply(200, raw_json=answer)


async def _read(ctx: BuyerContext, key: Hashable, work: Callable[[Connection], bytes]) -> bytes:
    """``work(conn)`` in a read transaction: on SQLite inline and through the answer cache, in
    a worker thread otherwise."""

    def run() -> bytes:
        with ctx.db.read() as conn:
            return work(conn)

    if ctx.db.is_sqlite:
        return ctx.answers.answer(key, run)
    return await in_thread(ctx.answers.answer, key, run)


def _get(conn: Connection, lot_id: str) -> bytes:
    text = conn.execute(_GET, {"id": lot_id}).scalar()
    if text is None:
        raise NotFoundError("lot", lot_id)
    return store.splice_one("lot", text)


def _list(conn: Connection, query: dict[str, Any]) -> bytes:
    standards = [text_column(s) for s in query.get("standards") or ()]
    shape = (tuple(k for k in _optional_filters() if query.get(k) is not None), len(standards))
    params = _params(query, standards)
    if conn.dialect.name == "sqlite":
        docs, count = _sqlite_page(conn, shape, params)
    else:
        rows = conn.execute(_page_statement(*shape, counted=True), params).all()
        total = rows or conn.execute(_count_statement(*shape), params).all()
        docs, count = [row[0] for row in rows], int(total[0][-1])
    return store.splice_list("lots", store.Page(docs, count))


def _sqlite_page(
    conn: Connection, shape: tuple[tuple[str, ...], int], params: dict[str, Any]
) -> tuple[list[str], int]:
    """The page and the total on SQLite: two statements in the read transaction's one snapshot,
    straight through the driver with the SQL compiled once per shape. A window count over the
    page would make SQLite sort every matching document (six times the cost), and SQLAlchemy's
    per-execution work cost as much as the queries."""
    driver: Any = conn.connection.driver_connection
    found = []
    for statement in (_page_statement(*shape, counted=False), _count_statement(*shape)):
        sql, names, fixed = _sqlite_sql(statement, conn.dialect)
        values = [params[name] if name in params else fixed[name] for name in names]
        found.append(driver.execute(sql, values).fetchall())
    rows, ((count,),) = found
    return [row[0] for row in rows], int(count)


@lru_cache(maxsize=512)
def _sqlite_sql(
    statement: Select[Any], dialect: Dialect
) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """The statement's SQL for SQLite, the names of its positional parameters in order, and
    the values of those the statement fixes itself (its literals)."""
    compiled = statement.compile(dialect=dialect)
    return str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params)


def _params(query: dict[str, Any], standards: list[str]) -> dict[str, Any]:
    params = {"status": query["status"], "limit": query["limit"], "offset": query["offset"]}
    params |= {k: query[k] for k in ("orgId", "minPrice", "maxPrice") if query.get(k) is not None}
    if query.get("type") is not None:
        params["type"] = text_column(query["type"])
    if query.get("search") is not None:
        params["search"] = _like(text_column(query["search"].lower()))
    params |= {f"standard_{i}": standard for i, standard in enumerate(standards)}
    return params


def _like(text: str) -> str:
    """``%text%`` with LIKE's own characters escaped (the escape character is a backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filters(present: tuple[str, ...], standards: int) -> list[ColumnElement[bool]]:
    where = [lots.c.status != "draft", lots.c.status == bindparam("status")]
    where += [_FILTERS[name]() for name in present]
    for index in range(standards):
        holding = lot_standards.c.standard == bindparam(f"standard_{index}")
        where.append(lots.c.id.in_(select(lot_standards.c.lot_id).where(holding)))
    return where


@lru_cache(maxsize=256)
def _page_statement(present: tuple[str, ...], standards: int, *, counted: bool) -> Select[Any]:
    """The page's documents, newest first (``counted``: each row with the total as well)."""
    columns = [lots.c.doc, func.count().over().label("total")] if counted else [lots.c.doc]
    return (
        select(*columns)
        .where(*_filters(present, standards))
        .order_by(lots.c.created_at.desc(), lots.c.seq.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


@lru_cache(maxsize=256)
def _count_statement(present: tuple[str, ...], standards: int) -> Select[int]:
    return select(func.count()).select_from(lots).where(*_filters(present, standards))
