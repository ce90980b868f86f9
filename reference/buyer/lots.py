"""Lots: the buyer's operator API (create, update, publish, withdraw, read). The producers'
marketplace reads are in ``marketplace``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lotflow.reference.buyer import rules, settle
from lotflow.reference.buyer.kinds import LOT, sync_standards
from lotflow.reference.buyer.tables import lots
from lotflow.reference.common import store
from lotflow.reference.common.store import Doc

from lotflow.errors import ConflictError
from lotflow.http import OperationRequest, Reply

if TYPE_CHECKING:
    from lotflow.reference.buyer.context import BuyerContext, Tx

__all__ = [
    "create_lot",
    "delete_lot",
    "get_lot",
    "list_lots",
    "publish_lot",
    "update_lot",
]


# ---------------------------------------------------------------------------------- reads


def list_lots(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """listLots: the organisation's lots, any status, newest first."""
    where = [lots.c.org_id == req.principal.org_id]
    if req.query.get("status") is not None:
        where.append(lots.c.status == req.query["status"])
    with ctx.db.read() as conn:
        found = store.page(conn, lots, where, limit=req.query["limit"], offset=req.query["offset"])
    return Reply(200, raw_json=store.splice_list("lots", found))


def get_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """getLot: one of the organisation's lots."""
    with ctx.db.read() as conn:
        lot = store.require(conn, LOT, req.path_params["lotId"], org_id=req.principal.org_id)
    return Reply(200, raw_json=store.encode({"lot": lot}))


# ---------------------------------------------------------------------------------- writes


def create_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """createLot: a new draft lot with consistent pricing."""
    body = req.body
    rules.check(rules.pricing_errors(body["volume"]["amount"], body["pricing"]))
    with ctx.transaction() as tx:
        lot = _new_lot(tx, req.principal.org_id, body)
        tx.create(LOT, lot, "createLot")
        sync_standards(tx.conn, lot)
    return Reply(201, raw_json=store.encode({"lot": lot}))


def _new_lot(tx: Tx, org_id: str, body: dict[str, Any]) -> Doc:
    """A draft lot document. ``body`` passed the closed LotInput schema: its keys are terms."""
    terms = {k: v for k, v in body.items() if k != "expiresAt"}
    return {
        "_id": tx.new_id(),
        "orgId": org_id,
        **terms,
        "status": tx.ctx.machine(LOT).initial,
        "publishedAt": None,
        "expiresAt": body.get("expiresAt"),
        "createdAt": tx.stamp,
        "updatedAt": tx.stamp,
        "version": 1,
    }


def update_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """updateLot: change a draft or published lot; a published one sends lot.updated."""
    body = req.body
    with ctx.transaction() as tx:
        lot = store.require(tx.conn, LOT, req.path_params["lotId"], org_id=req.principal.org_id)
        ctx.machine(LOT).require("updateLot", lot["status"], lot["status"], entity_id=lot["_id"])
        if body.get("version", lot["version"]) != lot["version"]:
            raise ConflictError(
                f"Lot {lot['_id']} is at version {lot['version']}; the update was for version "
                f"{body['version']}. Read it again and retry.",
                "version_conflict",
                currentVersion=lot["version"],
            )
        changes = _lot_changes(lot, body)
        if not changes:
            return Reply(200, raw_json=store.encode({"lot": lot}))
        updated = tx.move(LOT, lot, "updateLot", lot["status"], **changes)
        if "compliance" in changes:
            sync_standards(tx.conn, updated)
    return Reply(200, raw_json=store.encode({"lot": updated}))


def _lot_changes(lot: Doc, body: dict[str, Any]) -> dict[str, Any]:
    """The fields that change. A new volume without new pricing keeps the unit price and
    recomputes the total; new pricing must be consistent with the resulting volume. ``body``
    passed the closed LotUpdate schema: besides ``version`` its keys are terms."""
    changes = {k: v for k, v in body.items() if k != "version"}
    volume: Doc = changes.get("volume") or lot["volume"]
    if "pricing" in changes:
        rules.check(rules.pricing_errors(volume["amount"], changes["pricing"]))
    elif "volume" in changes:
        per_unit = lot["pricing"]["pricePerUnit"]
        total = rules.total_price(volume["amount"], per_unit, "/volume/amount")
        changes["pricing"] = {**lot["pricing"], "price": total}
    return changes


def publish_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """publishLot: draft → published; sends lot.published and notifies the buyer."""
    with ctx.transaction() as tx:
        lot = store.require(tx.conn, LOT, req.path_params["lotId"], org_id=req.principal.org_id)
        published = tx.move(LOT, lot, "publishLot", "published", publishedAt=tx.stamp)
        tx.notify(
            lot["orgId"],
            "lot_published",
            "Your lot is now visible to producers",
            f"Your lot is now visible to producers: {lot['title']}",
            lot_id=lot["_id"],
        )
    return Reply(200, raw_json=store.encode({"lot": published}))


def delete_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """deleteLot: the lot becomes cancelled, its open bids and pending counter-offers withdrawn;
    lot.deleted is sent when producers had seen it (the workflow's transition from published)."""
    with ctx.transaction() as tx:
        lot = store.require(tx.conn, LOT, req.path_params["lotId"], org_id=req.principal.org_id)
        cancelled = tx.move(LOT, lot, "deleteLot", "cancelled")
        settle.withdraw_open_bids(tx, cancelled)
    return Reply(200, raw_json=store.encode({"lot": cancelled}))
