"""The producer marketplace: lots kept from the buyer's webhooks, reconciled by fetching."""

from __future__ import annotations

from typing import Any

from lotflow.reference.common import docstore
from lotflow.reference.common.docstore import Doc
from lotflow.reference.common.notifications import notify
from lotflow.reference.producer.context import ProducerContext
from sqlalchemy import Connection

from lotflow.clock import isoformat
from lotflow.errors import TransportError
from lotflow.http import OperationRequest, Reply
from lotflow.problems import Problem

LOT_FIELDS = (
    "title",
    "description",
    "type",
    "volume",
    "pricing",
    "delivery",
    "compliance",
    "orgId",
    "airlineName",
    "publishedAt",
    "expiresAt",
)


def _columns(lot: Doc) -> dict[str, Any]:
    text = f"{lot.get('title', '')} {lot.get('description', '')}".lower()[:5900]
    return {
        "status": lot["status"],
        "type": lot["type"],
        "search": text,
        "created_at": lot["createdAt"],
    }


def upsert_lot(
    conn: Connection,
    ctx: ProducerContext,
    buyer_lot: Doc,
    cause: str,
    *,
    organization: Doc | None = None,
    source: str = "webhook",
    closed: bool = False,
) -> tuple[bool, str | None]:
    """Store a newer buyer lot version; return (applied, why not). Notifies on a new open lot."""
    stored = docstore.get(conn, ctx.tables.lots, buyer_lot["_id"])
    if stored is not None and stored["version"] >= buyer_lot["version"]:
        return False, f"stale lot version {buyer_lot['version']} (have {stored['version']})"
    target = "closed" if closed else ctx.workflow.producer_status("lot", buyer_lot["status"])
    if target is None:
        return False, f"a {buyer_lot['status']} lot is not shown to producers"
    current = stored["status"] if stored else None
    if target != current and not ctx.lot_machine.allows(cause, current, target):
        return False, f"lot {buyer_lot['_id']} is {current}; {cause} cannot make it {target}"
    now = isoformat(ctx.clock.now())
    lot = {
        "_id": buyer_lot["_id"],
        **{k: buyer_lot[k] for k in LOT_FIELDS if buyer_lot.get(k) is not None},
        "status": target,
        "buyerStatus": buyer_lot["status"],
        "version": buyer_lot["version"],
        "source": source,
        "organization": organization
        or (stored or {}).get("organization")
        or {"_id": buyer_lot["orgId"], "name": buyer_lot.get("airlineName") or buyer_lot["orgId"]},
        "createdAt": (stored or {}).get("createdAt", now),
        "updatedAt": now,
    }
    if stored is None:
        docstore.insert(conn, ctx.tables.lots, lot, **_columns(lot))
    else:
        docstore.update(conn, ctx.tables.lots, lot, stored["version"], **_columns(lot))
    if target == "open" and current is None:
        for org_id in ctx.org_ids():
            notify(
                conn,
                ctx.tables.notifications,
                ctx.clock.now(),
                org_id,
                "lot_available",
                "New lot",
                f"New lot: {lot['title']}",
                lot_id=lot["_id"],
            )
    return True, None


def award_lot(conn: Connection, ctx: ProducerContext, lot_id: str, cause: str) -> None:
    """A contract arrived: an open lot becomes awarded (a data-only move; the buyer's version
    stays)."""
    stored = docstore.get(conn, ctx.tables.lots, lot_id)
    if stored is None or not ctx.lot_machine.allows(cause, stored["status"], "awarded"):
        return
    awarded = {**stored, "status": "awarded", "updatedAt": isoformat(ctx.clock.now())}
    conn.execute(
        ctx.tables.lots.update()
        .where(ctx.tables.lots.c.id == lot_id)
        .values(doc=docstore.dumps(awarded), status="awarded")
    )


def list_lots(ctx: ProducerContext, req: OperationRequest) -> Reply:
    if req.query.get("refresh"):
        sync(ctx, req)
    lots = ctx.tables.lots
    conditions = docstore.equal_to(lots, req.query, {"status": "status", "type": "type"})
    if req.query.get("search"):
        conditions.append(lots.c.search.contains(req.query["search"].lower(), autoescape=True))
    with ctx.db.read() as conn:
        return docstore.page_reply(conn, lots, "lots", conditions, req.query)


def get_lot(ctx: ProducerContext, req: OperationRequest) -> Reply:
    with ctx.db.read() as conn:
        lot = docstore.require(
            conn, ctx.tables.lots, req.path_params["lotId"], what="marketplace lot"
        )
    return Reply(200, {"lot": lot})


def sync(ctx: ProducerContext, _req: OperationRequest | None = None) -> Reply:
    """Fetch every published lot from the buyer and store newer versions; read each open lot
    it no longer lists: reserved or sold → awarded, cancelled or gone → closed. Every call to the
    buyer is made before anything is written, so a buyer failure (502) changes nothing."""
    fetched = _fetch_published(ctx)
    listed = {lot["_id"] for lot in fetched}
    lots = ctx.tables.lots
    with ctx.db.read() as conn:
        unlisted = [
            lot["_id"]
            for lot in docstore.find(conn, lots, lots.c.status == "open")
            if lot["_id"] not in listed
        ]
    now_at = {lot_id: _fetch_one(ctx, lot_id) for lot_id in unlisted}
    created = updated = awarded = closed = 0
    with ctx.db.write() as conn:
        for buyer_lot in fetched:
            known = docstore.get(conn, lots, buyer_lot["_id"]) is not None
            applied, _ = upsert_lot(conn, ctx, buyer_lot, "syncMarketplace", source="sync")
            created += applied and not known
            updated += applied and known
        for lot_id, current in now_at.items():
            if current is not None and current["status"] != "published":
                applied, _ = upsert_lot(conn, ctx, current, "syncMarketplace", source="sync")
                status = ctx.workflow.producer_status("lot", current["status"])
                awarded += applied and status == "awarded"
                closed += applied and status == "closed"
            elif current is None and _close_gone(conn, ctx, lot_id):
                closed += 1
    counts = {"created": created, "updated": updated, "awarded": awarded, "closed": closed}
    return Reply(200, {"fetched": len(fetched), **counts})


def _close_gone(conn: Connection, ctx: ProducerContext, lot_id: str) -> bool:
    """An open lot the buyer does not have any more becomes closed."""
    lots = ctx.tables.lots
    lot = docstore.get(conn, lots, lot_id)
    if lot is None or lot["status"] != "open":
        return False
    ctx.lot_machine.require("syncMarketplace", "open", "closed", entity_id=lot_id)
    gone = {**lot, "status": "closed", "buyerStatus": "cancelled"}
    gone["updatedAt"] = isoformat(ctx.clock.now())
    conn.execute(
        lots.update().where(lots.c.id == lot_id).values(doc=docstore.dumps(gone), status="closed")
    )
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
    lots: list[Doc] = []
    while True:
        try:
            response = ctx.buyer.call(
                "listExternalLots", query={"status": "published", "limit": 200, "offset": len(lots)}
            )
        except TransportError as exc:
            raise buyer_unavailable(str(exc)) from exc
        if response.status_code != 200:
            raise buyer_unavailable(
                f"GET /api/lots/external answered {response.status_code}: {response.text[:200]}"
            )
        page = response.json()
        lots += page["lots"]
        if not page["lots"] or len(lots) >= page["count"]:
            return lots


def buyer_unavailable(detail: str) -> Problem:
    return Problem(
        502,
        "Buyer portal unavailable",
        f"The buyer portal could not be used: {detail}",
        "buyer_unavailable",
    )
