"""Bids and counter-offers: submission (idempotent), decisions, counter-offers and the award."""

from __future__ import annotations

from typing import Any

from lotflow.reference.buyer import outbox
from lotflow.reference.buyer.context import BuyerContext
from lotflow.reference.buyer.contracts import new_contract
from lotflow.reference.buyer.lots import OPEN_BIDS, save_lot
from lotflow.reference.buyer.rules import check_fits_lot, check_pricing, require_open_lot
from lotflow.reference.common import docstore
from lotflow.reference.common.docstore import Doc
from lotflow.reference.common.notifications import notify
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from lotflow.clock import isoformat
from lotflow.http import OperationRequest, Reply
from lotflow.ids import new_object_id
from lotflow.problems import Problem

SUBMISSION_FIELDS = (
    "lotId",
    "volume",
    "pricing",
    "bidderId",
    "bidderName",
    "bidderEmail",
    "message",
    "deliveryDate",
    "deliveryLocation",
    "externalBidId",
    "expiresAt",
)
SOURCE = "producer-dashboard"


def bid_columns(bid: Doc) -> dict[str, Any]:
    return {
        "lot_id": bid["lotId"],
        "org_id": bid["buyerOrgId"],
        "external_bid_id": bid["externalBidId"],
        "status": bid["status"],
        "source": bid["source"],
        "expires_at": _utc(bid.get("expiresAt")),
        "created_at": bid["createdAt"],
    }


def _utc(stamp: str | None) -> str | None:
    from datetime import datetime

    return isoformat(datetime.fromisoformat(stamp)) if stamp else None


def save_bid(conn: Connection, ctx: BuyerContext, bid: Doc, previous: int) -> None:
    docstore.update(conn, ctx.tables.bids, bid, previous, **bid_columns(bid))


def _lot_of(conn: Connection, ctx: BuyerContext, bid: Doc) -> Doc:
    return docstore.require(conn, ctx.tables.lots, bid["lotId"], what="lot")


# ---------------------------------------------------------------- producer-facing
def submit_bid(ctx: BuyerContext, req: OperationRequest) -> Reply:
    try:
        return _submit(ctx, req.body)
    except IntegrityError:  # a concurrent duplicate won the unique constraint: answer like a repeat
        return _submit(ctx, req.body)


def _submit(ctx: BuyerContext, body: Doc) -> Reply:
    now = ctx.clock.now()
    bids = ctx.tables.bids
    with ctx.db.write() as conn:
        existing = docstore.find(
            conn,
            bids,
            bids.c.lot_id == body["lotId"],
            bids.c.external_bid_id == body["externalBidId"],
        )
        if existing:
            return _repeat(existing[0], body)
        lot = docstore.require(
            conn, ctx.tables.lots, body["lotId"], ctx.tables.lots.c.status != "draft", what="lot"
        )
        require_open_lot(lot)
        check_fits_lot(lot, body["volume"])
        check_pricing(body["volume"], body["pricing"])
        stamp = isoformat(now)
        bid = {field: body.get(field) for field in SUBMISSION_FIELDS} | {
            "_id": new_object_id(int(now.timestamp())),
            "buyerOrgId": lot["orgId"],
            "status": "pending",
            "source": SOURCE,
            "counterOfferId": None,
            "contractId": None,
            "rejectionReason": None,
            "createdAt": stamp,
            "updatedAt": stamp,
            "version": 1,
        }
        docstore.insert(conn, bids, bid, **bid_columns(bid))
        notify(
            conn,
            ctx.tables.notifications,
            now,
            lot["orgId"],
            "bid_received",
            "New bid received",
            f"New bid received on {lot['title']} from {bid['bidderName']}",
            lot_id=lot["_id"],
            bid_id=bid["_id"],
        )
    return Reply(201, {"bid": bid})


def _repeat(stored: Doc, body: Doc) -> Reply:
    sent = {k: v for k, v in body.items() if v is not None}
    kept = {k: stored.get(k) for k in SUBMISSION_FIELDS if stored.get(k) is not None}
    if sent != kept:
        raise Problem.conflict(
            "duplicate_external_bid",
            f"externalBidId {body['externalBidId']} was already used on lot {body['lotId']} "
            f"with different terms (bid {stored['_id']}).",
            bidId=stored["_id"],
        )
    return Reply(200, {"bid": stored})


def _external_bid(conn: Connection, ctx: BuyerContext, bid_id: str) -> Doc:
    bid = docstore.require(
        conn, ctx.tables.bids, bid_id, ctx.tables.bids.c.source == SOURCE, what="bid"
    )
    return bid


def get_external_bid(ctx: BuyerContext, req: OperationRequest) -> Reply:
    with ctx.db.read() as conn:
        return Reply(200, _detail(conn, ctx, _external_bid(conn, ctx, req.path_params["bidId"])))


def _detail(conn: Connection, ctx: BuyerContext, bid: Doc) -> Doc:
    detail: Doc = {"bid": bid}
    if bid.get("counterOfferId"):
        detail["counterOffer"] = docstore.get(conn, ctx.tables.counters, bid["counterOfferId"])
    if bid.get("contractId"):
        detail["contract"] = docstore.get(conn, ctx.tables.contracts, bid["contractId"])
    return detail


def accept_counter_offer(ctx: BuyerContext, req: OperationRequest) -> Reply:
    accept = req.body["accept"]
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        bid = _external_bid(conn, ctx, req.path_params["bidId"])
        counter = _pending_counter(conn, ctx, bid, req.body.get("counterOfferId"), accept)
        answered = docstore.changed(
            counter, now, status="accepted" if accept else "declined", respondedAt=isoformat(now)
        )
        _save_counter(conn, ctx, answered, counter["version"])
        lot = _lot_of(conn, ctx, bid)
        if accept:
            bid, contract = _award(conn, ctx, lot, bid, "acceptCounterOffer", True, {}, answered)
        else:
            ctx.bid_machine.require(
                "acceptCounterOffer", bid["status"], "pending", entity_id=bid["_id"]
            )
            bid, contract = docstore.changed(bid, now, status="pending"), None
            save_bid(conn, ctx, bid, bid["version"] - 1)
        kind = "counter_accepted" if accept else "counter_declined"
        notify(
            conn,
            ctx.tables.notifications,
            now,
            lot["orgId"],
            kind,
            "Counter-offer " + kind.split("_")[1],
            f"{bid['bidderName']} {kind.split('_')[1]} your counter-offer on {lot['title']}",
            lot_id=lot["_id"],
            bid_id=bid["_id"],
        )
    ctx.wake()
    result: Doc = {"success": True, "bid": bid, "counterOffer": answered}
    if contract:
        result["contract"] = contract
    return Reply(200, result)


def _pending_counter(
    conn: Connection, ctx: BuyerContext, bid: Doc, named: str | None, accept: bool
) -> Doc:
    counter = (
        docstore.get(conn, ctx.tables.counters, bid["counterOfferId"])
        if bid.get("counterOfferId")
        else None
    )
    target = "accepted" if accept else "declined"
    if counter is None:
        raise Problem.conflict(
            "illegal_transition",
            f"Bid {bid['_id']} has no counter-offer to answer.",
            currentState=bid["status"],
            operation="acceptCounterOffer",
        )
    if named and named != counter["_id"]:
        raise Problem.conflict(
            "counter_offer_mismatch",
            f"Counter-offer {named} is not the bid's current one ({counter['_id']}).",
            currentCounterOfferId=counter["_id"],
        )
    ctx.counter_machine.require(
        "acceptCounterOffer", counter["status"], target, entity_id=counter["_id"]
    )
    expires = _utc(counter.get("expiresAt"))
    if expires and expires < isoformat(ctx.clock.now()):
        raise Problem.conflict(
            "counter_offer_expired",
            f"Counter-offer {counter['_id']} expired at {counter['expiresAt']}.",
            currentState="expired",
        )
    return counter


# ---------------------------------------------------------------- operator
def _own_bid(conn: Connection, ctx: BuyerContext, req: OperationRequest) -> Doc:
    bid = docstore.require(
        conn,
        ctx.tables.bids,
        req.path_params["bidId"],
        ctx.tables.bids.c.org_id == req.principal.org_id,
        what="bid",
    )
    return bid


def get_bid(ctx: BuyerContext, req: OperationRequest) -> Reply:
    with ctx.db.read() as conn:
        return Reply(200, _detail(conn, ctx, _own_bid(conn, ctx, req)))


def list_lot_bids(ctx: BuyerContext, req: OperationRequest) -> Reply:
    from lotflow.reference.buyer.lots import own_lot

    bids, lot_id = ctx.tables.bids, req.path_params["lotId"]
    status = docstore.equal_to(bids, req.query, {"status": "status"})
    with ctx.db.read() as conn:
        own_lot(conn, ctx, req.principal.org_id, lot_id)
        oldest_first = (bids.c.created_at, bids.c.id)
        conditions = [bids.c.lot_id == lot_id, *status]
        return docstore.page_reply(conn, bids, "bids", conditions, req.query, oldest_first)


def decide_bid(ctx: BuyerContext, req: OperationRequest) -> Reply:
    body = req.body
    with ctx.db.write() as conn:
        bid = _own_bid(conn, ctx, req)
        lot = _lot_of(conn, ctx, bid)
        if body["status"] == "rejected":
            bid, contract = (
                _reject(conn, ctx, lot, bid, body.get("reason") or "rejected by the buyer"),
                None,
            )
        else:
            bid, contract = _award(
                conn,
                ctx,
                lot,
                bid,
                "decideBid",
                body.get("createContract", True),
                body.get("contract") or {},
                None,
            )
    ctx.wake()
    return Reply(200, {"bid": bid} | ({"contract": contract} if contract else {}))


def _reject(conn: Connection, ctx: BuyerContext, lot: Doc, bid: Doc, reason: str) -> Doc:
    ctx.bid_machine.require("decideBid", bid["status"], "rejected", entity_id=bid["_id"])
    withdraw_counter(conn, ctx, bid, "decideBid")
    rejected = docstore.changed(bid, ctx.clock.now(), status="rejected", rejectionReason=reason)
    save_bid(conn, ctx, rejected, bid["version"])
    outbox.bid_event(conn, ctx, "bid.rejected", rejected, lot, reason=reason)
    return rejected


def withdraw_counter(conn: Connection, ctx: BuyerContext, bid: Doc, cause: str) -> None:
    """Withdraw the bid's pending counter-offer, if it has one."""
    counter = (
        docstore.get(conn, ctx.tables.counters, bid["counterOfferId"])
        if bid.get("counterOfferId")
        else None
    )
    if counter and counter["status"] == "pending":
        ctx.counter_machine.require(cause, "pending", "withdrawn", entity_id=counter["_id"])
        _save_counter(
            conn,
            ctx,
            docstore.changed(counter, ctx.clock.now(), status="withdrawn"),
            counter["version"],
        )


def _award(
    conn: Connection,
    ctx: BuyerContext,
    lot: Doc,
    bid: Doc,
    cause: str,
    with_contract: bool,
    terms: Doc,
    counter: Doc | None,
) -> tuple[Doc, Doc | None]:
    """Accept ``bid`` (with ``counter``'s terms when given): the lot awards it, the others lose."""
    now = ctx.clock.now()
    ctx.bid_machine.require(cause, bid["status"], "accepted", entity_id=bid["_id"])
    lot_target = "sold" if with_contract else "reserved"
    ctx.lot_machine.require(cause, lot["status"], lot_target, entity_id=lot["_id"])
    awarded_lot = docstore.changed(lot, now, status=lot_target)
    save_lot(conn, ctx, awarded_lot, lot["version"])
    accepted = docstore.changed(bid, now, status="accepted")
    if counter:
        accepted["volume"] = counter["volume"]
        accepted["pricing"] = {
            **bid["pricing"],
            "price": counter["price"],
            "pricePerUnit": counter["pricePerUnit"],
            "currency": counter["currency"],
            **({"paymentTerms": counter["paymentTerms"]} if counter.get("paymentTerms") else {}),
        }
    contract = (
        new_contract(conn, ctx, awarded_lot, accepted, terms, counter) if with_contract else None
    )
    if contract:
        accepted["contractId"] = contract["_id"]
    save_bid(conn, ctx, accepted, bid["version"])
    _reject_others(conn, ctx, awarded_lot, bid["_id"], cause)
    outbox.lot_event(conn, ctx, "lot.updated", awarded_lot)
    outbox.bid_event(conn, ctx, "bid.accepted", accepted, awarded_lot, contract=contract)
    if contract:
        outbox.contract_event(conn, ctx, contract, accepted, awarded_lot)
    return accepted, contract


def _reject_others(conn: Connection, ctx: BuyerContext, lot: Doc, winner: str, cause: str) -> None:
    bids = ctx.tables.bids
    for other in docstore.find(
        conn, bids, bids.c.lot_id == lot["_id"], bids.c.status.in_(OPEN_BIDS), bids.c.id != winner
    ):
        ctx.bid_machine.require(cause, other["status"], "rejected", entity_id=other["_id"])
        withdraw_counter(conn, ctx, other, "decideBid")
        lost = docstore.changed(
            other, ctx.clock.now(), status="rejected", rejectionReason="lot_awarded"
        )
        save_bid(conn, ctx, lost, other["version"])
        outbox.bid_event(conn, ctx, "bid.rejected", lost, lot, reason="lot_awarded")


def counter_bid(ctx: BuyerContext, req: OperationRequest) -> Reply:
    body = req.body
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        bid = _own_bid(conn, ctx, req)
        lot = _lot_of(conn, ctx, bid)
        ctx.bid_machine.require("counterBid", bid["status"], "countered", entity_id=bid["_id"])
        require_open_lot(lot)
        check_fits_lot(lot, body["volume"])
        price = body.get("price", round(body["volume"]["amount"] * body["pricePerUnit"], 2))
        check_pricing(
            body["volume"], {"price": price, "pricePerUnit": body["pricePerUnit"]}, where=""
        )
        counter = {
            "_id": new_object_id(int(now.timestamp())),
            "bidId": bid["_id"],
            "lotId": lot["_id"],
            "volume": body["volume"],
            "pricePerUnit": body["pricePerUnit"],
            "price": price,
            "currency": body.get("currency", bid["pricing"]["currency"]),
            "paymentTerms": body.get("paymentTerms"),
            "message": body.get("message"),
            "expiresAt": body.get("expiresAt"),
            "status": "pending",
            "createdAt": isoformat(now),
            "respondedAt": None,
            "version": 1,
        }
        docstore.insert(
            conn,
            ctx.tables.counters,
            counter,
            bid_id=bid["_id"],
            status="pending",
            expires_at=_utc(counter["expiresAt"]),
        )
        countered = docstore.changed(bid, now, status="countered", counterOfferId=counter["_id"])
        save_bid(conn, ctx, countered, bid["version"])
        outbox.bid_event(conn, ctx, "bid.counter_offer", countered, lot, counterOffer=counter)
    ctx.wake()
    return Reply(201, {"bid": countered, "counterOffer": counter})


def _save_counter(conn: Connection, ctx: BuyerContext, counter: Doc, previous: int) -> None:
    docstore.update(
        conn,
        ctx.tables.counters,
        counter,
        previous,
        bid_id=counter["bidId"],
        status=counter["status"],
        expires_at=_utc(counter.get("expiresAt")),
    )
