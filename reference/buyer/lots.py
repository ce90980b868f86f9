"""Lots: the buyer's operator actions (create, update, publish, withdraw) and both kinds of
reads."""

from __future__ import annotations

from typing import Any

from lotflow.reference.buyer import outbox
from lotflow.reference.buyer.context import BuyerContext
from lotflow.reference.buyer.rules import check_pricing
from lotflow.reference.common import docstore
from lotflow.reference.common.docstore import Doc
from lotflow.reference.common.notifications import notify
from sqlalchemy import Connection, Table

from lotflow.clock import isoformat
from lotflow.http import OperationRequest, Reply
from lotflow.ids import new_object_id
from lotflow.problems import Problem

OPEN_BIDS = ("pending", "countered")


def lot_columns(lot: Doc) -> dict[str, Any]:
    text = f"{lot.get('title', '')} {lot.get('description', '')}".lower()
    standards = lot.get("compliance", {}).get("standards", [])
    return {
        "org_id": lot["orgId"],
        "status": lot["status"],
        "type": lot["type"],
        "price": lot["pricing"]["price"],
        "search": text,
        "standards": "|" + "|".join(s.lower() for s in standards) + "|",
        "created_at": lot["createdAt"],
    }


def own_lot(conn: Connection, ctx: BuyerContext, org_id: str, lot_id: str) -> Doc:
    lot = docstore.require(
        conn, ctx.tables.lots, lot_id, ctx.tables.lots.c.org_id == org_id, what="lot"
    )
    return lot


def save_lot(conn: Connection, ctx: BuyerContext, lot: Doc, previous: int) -> None:
    docstore.update(conn, ctx.tables.lots, lot, previous, **lot_columns(lot))


def create_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    body = req.body
    check_pricing(body["volume"], body["pricing"])
    stamp = isoformat(ctx.clock.now())
    lot = {
        "_id": new_object_id(int(ctx.clock.now().timestamp())),
        "orgId": req.principal.org_id,
        **body,
        "status": "draft",
        "publishedAt": None,
        "expiresAt": body.get("expiresAt"),
        "createdAt": stamp,
        "updatedAt": stamp,
        "version": 1,
    }
    with ctx.db.write() as conn:
        docstore.insert(conn, ctx.tables.lots, lot, **lot_columns(lot))
    return Reply(201, {"lot": lot})


def update_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    changes = dict(req.body)
    expected_version = changes.pop("version", None)
    with ctx.db.write() as conn:
        lot = own_lot(conn, ctx, req.principal.org_id, req.path_params["lotId"])
        ctx.lot_machine.require("updateLot", lot["status"], lot["status"], entity_id=lot["_id"])
        if expected_version is not None and expected_version != lot["version"]:
            raise Problem.conflict(
                "version_conflict",
                f"Lot {lot['_id']} is at version {lot['version']}, not {expected_version}.",
                currentVersion=lot["version"],
            )
        updated = docstore.changed(lot, ctx.clock.now(), **changes)
        check_pricing(updated["volume"], updated["pricing"])
        save_lot(conn, ctx, updated, lot["version"])
        if updated["status"] == "published":
            outbox.lot_event(conn, ctx, "lot.updated", updated)
    ctx.wake()
    return Reply(200, {"lot": updated})


def publish_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        lot = own_lot(conn, ctx, req.principal.org_id, req.path_params["lotId"])
        ctx.lot_machine.require("publishLot", lot["status"], "published", entity_id=lot["_id"])
        published = docstore.changed(lot, now, status="published", publishedAt=isoformat(now))
        save_lot(conn, ctx, published, lot["version"])
        outbox.lot_event(conn, ctx, "lot.published", published)
        notify(
            conn,
            ctx.tables.notifications,
            now,
            lot["orgId"],
            "lot_published",
            "Lot published",
            f"Your lot is now visible to producers: {lot['title']}",
            lot_id=lot["_id"],
        )
    ctx.wake()
    return Reply(200, {"lot": published})


def delete_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        lot = own_lot(conn, ctx, req.principal.org_id, req.path_params["lotId"])
        ctx.lot_machine.require("deleteLot", lot["status"], "cancelled", entity_id=lot["_id"])
        withdrawn = docstore.changed(lot, now, status="cancelled")
        save_lot(conn, ctx, withdrawn, lot["version"])
        _withdraw_open_bids(conn, ctx, lot["_id"])
        if lot["status"] == "published":
            outbox.lot_event(conn, ctx, "lot.deleted", withdrawn)
    ctx.wake()
    return Reply(200, {"lot": withdrawn})


def _withdraw_open_bids(conn: Connection, ctx: BuyerContext, lot_id: str) -> None:
    from lotflow.reference.buyer.bids import save_bid, withdraw_counter

    bids = ctx.tables.bids
    for bid in docstore.find(conn, bids, bids.c.lot_id == lot_id, bids.c.status.in_(OPEN_BIDS)):
        withdraw_counter(conn, ctx, bid, "deleteLot")
        save_bid(
            conn, ctx, docstore.changed(bid, ctx.clock.now(), status="withdrawn"), bid["version"]
        )


def get_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    with ctx.db.read() as conn:
        return Reply(
            200, {"lot": own_lot(conn, ctx, req.principal.org_id, req.path_params["lotId"])}
        )


def list_lots(ctx: BuyerContext, req: OperationRequest) -> Reply:
    lots = ctx.tables.lots
    conditions = [lots.c.org_id == req.principal.org_id]
    if "status" in req.query:
        conditions.append(lots.c.status == req.query["status"])
    return _page(ctx, lots, conditions, req)


async def list_external_lots(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """The producer marketplace's hot path. It runs on the event loop, not in the threadpool: one
    indexed SQLite read (well under a millisecond) costs less than the thread hop, and under load
    dozens of threads only contend for the GIL and the connection pool."""
    return _list_external_lots(ctx, req)


def _list_external_lots(ctx: BuyerContext, req: OperationRequest) -> Reply:
    q, lots = {"status": "published", **req.query}, ctx.tables.lots
    conditions = [lots.c.status != "draft"]
    for name, column in (
        ("status", lots.c.status),
        ("orgId", lots.c.org_id),
        ("type", lots.c.type),
    ):
        if name in q:
            conditions.append(column == q[name])
    if "minPrice" in q:
        conditions.append(lots.c.price >= q["minPrice"])
    if "maxPrice" in q:
        conditions.append(lots.c.price <= q["maxPrice"])
    conditions += [
        lots.c.standards.contains(f"|{s.lower()}|", autoescape=True) for s in q.get("standards", [])
    ]
    if q.get("search"):
        conditions.append(lots.c.search.contains(q["search"].lower(), autoescape=True))
    return _page(ctx, lots, conditions, req)


def get_external_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    lots = ctx.tables.lots
    with ctx.db.read() as conn:
        lot = docstore.require(
            conn, lots, req.path_params["lotId"], lots.c.status != "draft", what="lot"
        )
    return Reply(200, {"lot": lot})


def _page(ctx: BuyerContext, table: Table, conditions: list[Any], req: OperationRequest) -> Reply:
    with ctx.db.read() as conn:
        return docstore.page_reply(conn, table, "lots", conditions, req.query)
