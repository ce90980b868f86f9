"""The producer marketplace: lots kept from the buyer's webhooks, reconciled by fetching.

A marketplace lot's ``version`` is the buyer's lot version last applied (the spec's
MarketplaceLot), so a buyer lot is stored only when it is newer, and every write is conditional on
the version and the status that were read. Its status follows the buyer's through the workflow's
mapping; a change of status is a transition of ``producer.lot``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from lotflow.reference.common import shapes, store
from lotflow.reference.common.store import Doc
from lotflow.reference.common.transaction import Transaction
from lotflow.reference.producer.context import ProducerContext
from lotflow.reference.producer.tables import LOT, lots

from lotflow.errors import TransportError
from lotflow.http import OperationRequest, Reply
from lotflow.problems import Problem

__all__ = ["award_lot", "buyer_unavailable", "get_lot", "list_lots", "sync", "upsert_lot"]

_OWN = frozenset({"_id", "status", "version", "updatedAt", "createdAt"})  # set by this portal


@cache
def _copied_terms() -> tuple[str, ...]:
    """The members of a buyer Lot that a MarketplaceLot shows as they are (the spec's two
    schemas decide; what the producer sets itself is left out)."""
    buyer_lot = set(shapes.members("buyer", "Lot"))
    return tuple(m for m in shapes.members("producer", "MarketplaceLot") if m in buyer_lot - _OWN)


def upsert_lot(
    tx: Transaction,
    ctx: ProducerContext,
    buyer_lot: Doc,
    cause: str,
    *,
    organization: Doc | None = None,
    source: str = "webhook",
    closed: bool = False,
) -> tuple[bool, str | None]:
    """Store a newer buyer lot version; return (applied, why not). Notifies on a new open lot.

    A lot this portal never saw is stored in whatever state the event gives it (the workflow's
    creation transitions say which): dropping it would let a late, older lot.published open it.
    """
    stored = store.fetch(tx.conn, LOT, buyer_lot["_id"])
    if stored is not None and stored["version"] >= buyer_lot["version"]:
        return False, f"stale lot version {buyer_lot['version']} (have {stored['version']})"
    target = "closed" if closed else ctx.workflow.producer_status("lot", buyer_lot["status"])
    if target is None:
        return False, f"a {buyer_lot['status']} lot is not shown to producers"
    current = stored["status"] if stored else None
    if target != current and not ctx.machine(LOT).allows(cause, current, target):
        return False, f"lot {buyer_lot['_id']} is {current}; {cause} cannot make it {target}"
    lot = _marketplace_lot(tx, buyer_lot, stored, target, organization, source)
    if stored is None:
        tx.create(LOT, lot, cause)  # also awarded or closed: an event about an unknown lot
        for org_id in ctx.org_ids() if target == "open" else ():
            tx.notify(
                org_id, "lot_available", "New lot", f"New lot: {lot['title']}", lot_id=lot["_id"]
            )
    elif target == current:  # newer terms, same status: no transition
        store.save(tx.conn, LOT, stored, lot, status=current)
    else:
        tx.replace(LOT, stored, lot, cause)
    return True, None


def _marketplace_lot(
    tx: Transaction,
    buyer_lot: Doc,
    stored: Doc | None,
    target: str,
    organization: Doc | None,
    source: str,
) -> Doc:
    earlier = stored or {}
    shown = organization or earlier.get("organization")
    return {
        "_id": buyer_lot["_id"],
        **{k: buyer_lot[k] for k in _copied_terms() if buyer_lot.get(k) is not None},
        "status": target,
        "buyerStatus": buyer_lot["status"],
        "version": buyer_lot["version"],
        "source": source,
        "organization": shown
        or {"_id": buyer_lot["orgId"], "name": buyer_lot.get("airlineName") or buyer_lot["orgId"]},
        "createdAt": earlier.get("createdAt", tx.stamp),
        "updatedAt": tx.stamp,
    }


def award_lot(tx: Transaction, ctx: ProducerContext, lot_id: str, cause: str) -> None:
    """A contract arrived: an open lot becomes awarded (the buyer's version stays: this portal
    learnt it from a bid or contract event, not from a newer lot)."""
    stored = store.fetch(tx.conn, LOT, lot_id)
    if stored is None or not ctx.machine(LOT).allows(cause, stored["status"], "awarded"):
        return
    tx.replace(LOT, stored, {**stored, "status": "awarded", "updatedAt": tx.stamp}, cause)


def list_lots(ctx: ProducerContext, req: OperationRequest) -> Reply:
    """listMarketplaceLots: newest first (``refresh`` syncs with the buyer first)."""
    if req.query.get("refresh"):
        sync(ctx, req)
    query = req.query
    conditions = store.equal_to(lots, query, {"status": "status", "type": "type"})
    if query.get("search"):
        conditions.append(lots.c.search_text.contains(query["search"].lower(), autoescape=True))
    with ctx.db.read() as conn:
        found = store.page(conn, lots, conditions, limit=query["limit"], offset=query["offset"])
    return Reply(200, raw_json=store.splice_list("lots", found))


def get_lot(ctx: ProducerContext, req: OperationRequest) -> Reply:
    """getMarketplaceLot: one lot."""
    with ctx.db.read() as conn:
        lot = store.require(conn, LOT, req.path_params["lotId"])
    return Reply(200, raw_json=store.encode({"lot": lot}))


def sync(ctx: ProducerContext, _req: OperationRequest | None = None) -> Reply:
    """Fetch every published lot from the buyer and store newer versions; read each open lot
    it no longer lists: reserved or sold → awarded, cancelled or gone → closed. Every call to the
    buyer is made before anything is written, so a buyer failure (502) changes nothing."""
    fetched = _fetch_published(ctx)
    listed = {lot["_id"] for lot in fetched}
    with ctx.db.read() as conn:
        still_open = store.fetch_where(conn, LOT, lots.c.status == "open")
    now_at = {
        lot["_id"]: _fetch_one(ctx, lot["_id"]) for lot in still_open if lot["_id"] not in listed
    }
    counts = {"created": 0, "updated": 0, "awarded": 0, "closed": 0}
    with ctx.transaction() as tx:
        for buyer_lot in fetched:
            known = store.fetch(tx.conn, LOT, buyer_lot["_id"]) is not None
            applied, _ = upsert_lot(tx, ctx, buyer_lot, "syncMarketplace", source="sync")
            counts["updated" if known else "created"] += applied
        for lot_id, current in now_at.items():
            if outcome := _reconcile(tx, ctx, lot_id, current):
                counts[outcome] += 1
    return Reply(200, {"fetched": len(fetched), **counts})


def _reconcile(tx: Transaction, ctx: ProducerContext, lot_id: str, current: Doc | None) -> str:
    """Bring an open lot the buyer no longer lists up to date; the count it adds to (or "")."""
    if current is None:
        return "closed" if _close_gone(tx, lot_id) else ""
    if current["status"] == "published":
        return ""
    applied, _ = upsert_lot(tx, ctx, current, "syncMarketplace", source="sync")
    status = ctx.workflow.producer_status("lot", current["status"])
    return status if applied and status in ("awarded", "closed") else ""


def _close_gone(tx: Transaction, lot_id: str) -> bool:
    """An open lot the buyer does not have any more becomes closed."""
    lot = store.fetch(tx.conn, LOT, lot_id)
    if lot is None or lot["status"] != "open":
        return False
    gone = {**lot, "status": "closed", "buyerStatus": "cancelled", "updatedAt": tx.stamp}
    tx.replace(LOT, lot, gone, "syncMarketplace")
    return True


def _fetch_one(ctx: ProducerContext, lot_id: str) -> Doc | None:
    """The buyer's lot as it is now, or None when the buyer does not have it (404)."""
    try:
        response = ctx.buyer.call("getExternalLot", path={"lotId": lot_id})
    except TransportError as exc:
        raise buyer_unavailable(str(exc)) from exc
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise buyer_unavailable(
            f"GET /api/lots/external/{lot_id} answered {response.status_code}: "
            f"{response.text[:200]}"
        )
    lot: Doc = response.json()["lot"]
    return lot


def _fetch_published(ctx: ProducerContext) -> list[Doc]:
    lots_seen: list[Doc] = []
    while True:
        query: dict[str, Any] = {"status": "published", "limit": 200, "offset": len(lots_seen)}
        try:
            response = ctx.buyer.call("listExternalLots", query=query)
        except TransportError as exc:
            raise buyer_unavailable(str(exc)) from exc
        if response.status_code != 200:
            raise buyer_unavailable(
                f"GET /api/lots/external answered {response.status_code}: {response.text[:200]}"
            )
        page = response.json()
        lots_seen += page["lots"]
        if not page["lots"] or len(lots_seen) >= page["count"]:
            return lots_seen


def buyer_unavailable(detail: str) -> Problem:
    """502 ``buyer_unavailable``: the buyer portal could not be used."""
    return Problem(
        502,
        "Buyer portal unavailable",
        f"The buyer portal could not be used: {detail}",
        "buyer_unavailable",
    )
