"""Lots: the buyer's operator API (create, update, publish, withdraw, read). The producers'
marketplace reads are in ``marketplace``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lotflow.reference.buyer import rules, settle, store
from lotflow.reference.buyer.kinds import LOT, sync_standards
from lotflow.reference.buyer.store import Doc
from lotflow.reference.buyer.tables import lots

from lotflow.http import OperationRequest, Reply
from lotflow.problems import Problem

if TYPE_CHECKING:
    from lotflow.reference.buyer.context import BuyerContext, Tx

__all__ = [
    "create_lot",
    "delete_lot",
    "get_lot",
    "list_lots",
    "owned_lot",
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
        lot = store.fetch(conn, LOT, req.path_params["lotId"], org_id=req.principal.org_id)
    if lot is None:
        raise Problem.not_found("lot", req.path_params["lotId"])
    return Reply(200, raw_json=store.encode({"lot": lot}))


def owned_lot(tx: Tx, lot_id: str, org_id: str) -> Doc:
    """The organisation's lot, or 404."""
    lot = store.fetch(tx.conn, LOT, lot_id, org_id=org_id)
    if lot is None:
        raise Problem.not_found("lot", lot_id)
    return lot


# ---------------------------------------------------------------------------------- writes


def create_lot(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """createLot: a new draft lot with consistent pricing."""
    body = req.body
    rules.check(rules.pricing_errors(body["volume"]["amount"], body["pricing"]))
    with ctx.transaction() as tx:
        lot = _new_lot(tx, req.principal.org_id, body)
        store.insert(tx.conn, LOT, lot)
        sync_standards(tx.conn, lot)
    return Reply(201, raw_json=store.encode({"lot": lot}))


def _new_lot(tx: Tx, org_id: str, body: dict[str, Any]) -> Doc:
    """A draft lot document. ``body`` passed the closed LotInput schema: its keys are terms."""
    terms = {k: v for k, v in body.items() if k != "expiresAt"}
    return {
        "_id": tx.new_id(),
        "orgId": org_id,
        **terms,
        "status": "draft",
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
        lot = owned_lot(tx, req.path_params["lotId"], req.principal.org_id)
        ctx.lot_machine.require("updateLot", lot["status"], lot["status"], entity_id=lot["_id"])
        if body.get("version", lot["version"]) != lot["version"]:
            raise Problem.conflict(
                "version_conflict",
                f"Lot {lot['_id']} is at version {lot['version']}; the update was for version "
                f"{body['version']}. Read it again and retry.",
                currentVersion=lot["version"],
            )
        changes = _lot_changes(lot, body)
        if not changes:
            return Reply(200, raw_json=store.encode({"lot": lot}))
        updated = store.revise(lot, tx.stamp, **changes)
        store.save(tx.conn, LOT, lot, updated)
        if "compliance" in changes:
            sync_standards(tx.conn, updated)
        if updated["status"] == "published":
            organization = tx.organization(updated)
            tx.emit("lot.updated", updated["orgId"], lot=updated, organization=organization)
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
        lot = owned_lot(tx, req.path_params["lotId"], req.principal.org_id)
        ctx.lot_machine.require("publishLot", lot["status"], "published", entity_id=lot["_id"])
        published = store.revise(lot, tx.stamp, status="published", publishedAt=tx.stamp)
        store.save(tx.conn, LOT, lot, published)
        organization = tx.organization(published)
        tx.emit("lot.published", lot["orgId"], lot=published, organization=organization)
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
    lot.deleted is sent when producers had seen it."""
    with ctx.transaction() as tx:
        lot = owned_lot(tx, req.path_params["lotId"], req.principal.org_id)
        ctx.lot_machine.require("deleteLot", lot["status"], "cancelled", entity_id=lot["_id"])
        cancelled = store.revise(lot, tx.stamp, status="cancelled")
        store.save(tx.conn, LOT, lot, cancelled)
        if lot["status"] == "published":
            settle.withdraw_open_bids(tx, cancelled)
            organization = tx.organization(cancelled)
            tx.emit("lot.deleted", lot["orgId"], lot=cancelled, organization=organization)
    return Reply(200, raw_json=store.encode({"lot": cancelled}))
