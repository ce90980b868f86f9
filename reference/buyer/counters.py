"""Counter-offers: the buyer counters a pending bid; the producer accepts or declines, once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lotflow.reference.buyer import rules, settle
from lotflow.reference.buyer.bids import external_bid, owned_bid
from lotflow.reference.buyer.kinds import BID, COUNTER, LOT
from lotflow.reference.common import store
from lotflow.reference.common.store import Doc

from lotflow.errors import ConflictError, IllegalTransitionError
from lotflow.http import OperationRequest, Reply

if TYPE_CHECKING:
    from lotflow.reference.buyer.context import BuyerContext, Tx

__all__ = ["accept_counter_offer", "counter_bid"]


def counter_bid(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """counterBid: a pending counter-offer on a pending bid, which becomes countered; sends
    bid.counter_offer. The price is computed when omitted and checked when given."""
    body = req.body
    with ctx.transaction() as tx:
        bid = owned_bid(tx.conn, req.path_params["bidId"], req.principal.org_id)
        settle.require_unexpired(tx, "bid", bid, "counterBid")
        ctx.machine(BID).require("counterBid", bid["status"], "countered", entity_id=bid["_id"])
        counter = _new_counter(tx, bid, tx.current(LOT, bid["lotId"]), body)
        countered = tx.move(BID, bid, "counterBid", "countered", counterOfferId=counter["_id"])
        tx.create(COUNTER, counter, "counterBid")
        if counter["expiresAt"] is not None:
            tx.expiry_set()
    return Reply(201, raw_json=store.encode({"bid": countered, "counterOffer": counter}))


def _new_counter(tx: Tx, bid: Doc, lot: Doc, body: dict[str, Any]) -> Doc:
    volume, per_unit = body["volume"], body["pricePerUnit"]
    errors = rules.volume_errors(volume, lot)
    if "price" in body:
        pricing = {"price": body["price"], "pricePerUnit": per_unit}
        errors += rules.pricing_errors(volume["amount"], pricing, "")
    rules.check(errors)
    if "price" in body:
        price = body["price"]
    else:
        price = rules.total_price(volume["amount"], per_unit, "/pricePerUnit")
    rules.expiry_stamp(body.get("expiresAt"), "/expiresAt")
    return {
        "_id": tx.new_id(),
        "bidId": bid["_id"],
        "lotId": lot["_id"],
        "buyerOrgId": lot["orgId"],
        "volume": volume,
        "pricePerUnit": per_unit,
        "price": price,
        "currency": body.get("currency") or bid["pricing"]["currency"],
        "paymentTerms": body.get("paymentTerms") or bid["pricing"].get("paymentTerms"),
        "message": body.get("message"),
        "expiresAt": body.get("expiresAt"),
        "status": tx.ctx.machine(COUNTER).initial,
        "createdAt": tx.stamp,
        "respondedAt": None,
        "updatedAt": tx.stamp,
        "version": 1,
    }


def accept_counter_offer(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """acceptCounterOffer: ``accept: true`` accepts the counter terms (bid accepted, lot sold,
    contract made); ``accept: false`` declines (the bid is pending again). Answered once."""
    body = req.body
    target = "accepted" if body["accept"] else "declined"
    with ctx.transaction() as tx:
        bid = external_bid(tx.conn, req.path_params["bidId"])
        counter = _answerable_counter(tx, bid, body.get("counterOfferId"), target)
        lot = tx.current(LOT, bid["lotId"])
        result = _accept(tx, bid, lot, counter) if body["accept"] else _decline(tx, bid, lot)
    return Reply(200, raw_json=store.encode({"success": True, **result}))


def _answerable_counter(tx: Tx, bid: Doc, named: str | None, target: str) -> Doc:
    """The bid's pending counter-offer, or a 409 explaining why there is none to answer."""
    current_id = bid.get("counterOfferId")
    current = store.fetch(tx.conn, COUNTER, current_id) if current_id else None
    if named is not None and (current is None or current["_id"] != named):
        known = {"currentCounterOfferId": current["_id"]} if current else {}  # none: omitted
        raise ConflictError(
            f"Counter-offer {named} is not the current counter-offer of bid {bid['_id']}; "
            "read the bid again.",
            "counter_offer_mismatch",
            **known,
        )
    if current is None:  # never countered: the bid itself refuses the answer
        bid_target = "accepted" if target == "accepted" else "pending"
        machine = tx.ctx.machine(BID)
        machine.require("acceptCounterOffer", bid["status"], bid_target, entity_id=bid["_id"])
        raise IllegalTransitionError(  # a countered bid always has one; say so if not
            f"Bid {bid['_id']} is {bid['status']} but has no counter-offer to answer.",
            current=bid["status"],
            operation="acceptCounterOffer",
        )
    tx.ctx.machine(COUNTER).require(
        "acceptCounterOffer", current["status"], target, entity_id=current["_id"]
    )
    settle.require_unexpired(tx, "counter-offer", current, "acceptCounterOffer")
    return current


def _accept(tx: Tx, bid: Doc, lot: Doc, counter: Doc) -> Doc:
    _notify(tx, bid, lot, "counter_accepted", "Counter-offer accepted", "accepted")
    done = settle.award(tx, bid, lot, cause="acceptCounterOffer", counter=counter)
    result = {"bid": done.bid, "counterOffer": done.counter}
    return result | ({"contract": done.contract} if done.contract else {})


def _decline(tx: Tx, bid: Doc, lot: Doc) -> Doc:
    pending = tx.move(BID, bid, "acceptCounterOffer", "pending")
    counter = settle.close_counter(tx, bid, "acceptCounterOffer", "declined")
    _notify(tx, bid, lot, "counter_declined", "Counter-offer declined", "declined")
    return {"bid": pending, "counterOffer": counter}


def _notify(tx: Tx, bid: Doc, lot: Doc, kind: str, title: str, verb: str) -> None:
    message = f"{bid['bidderName']} {verb} your counter-offer on {lot['title']}"
    tx.notify(lot["orgId"], kind, title, message, lot_id=lot["_id"], bid_id=bid["_id"])
