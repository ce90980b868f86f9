"""Counter-offers: the buyer counters a pending bid; the producer accepts or declines, once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lotflow.reference.buyer import rules, settle, store
from lotflow.reference.buyer.bids import PRODUCER_SOURCE, owned_bid
from lotflow.reference.buyer.kinds import BID, COUNTER, LOT
from lotflow.reference.buyer.store import Doc

from lotflow.http import OperationRequest, Reply
from lotflow.problems import Problem

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
        ctx.bid_machine.require("counterBid", bid["status"], "countered", entity_id=bid["_id"])
        lot = _lot_of(tx, bid)
        counter = _new_counter(tx, bid, lot, body)
        countered = store.revise(bid, tx.stamp, status="countered", counterOfferId=counter["_id"])
        store.save(tx.conn, BID, bid, countered)
        store.insert(tx.conn, COUNTER, counter)
        tx.emit("bid.counter_offer", lot["orgId"], bid=countered, lot=lot, counterOffer=counter)
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
        "status": "pending",
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
        bid = store.fetch(tx.conn, BID, req.path_params["bidId"])
        if bid is None or bid.get("source") != PRODUCER_SOURCE:
            raise Problem.not_found("bid", req.path_params["bidId"])
        counter = _answerable_counter(tx, bid, body.get("counterOfferId"), target)
        lot = _lot_of(tx, bid)
        result = _accept(tx, bid, lot, counter) if body["accept"] else _decline(tx, bid, lot)
    return Reply(200, raw_json=store.encode({"success": True, **result}))


def _answerable_counter(tx: Tx, bid: Doc, named: str | None, target: str) -> Doc:
    """The bid's pending counter-offer, or a 409 explaining why there is none to answer."""
    current_id = bid.get("counterOfferId")
    current = store.fetch(tx.conn, COUNTER, current_id) if current_id else None
    if named is not None and (current is None or current["_id"] != named):
        known = {"currentCounterOfferId": current["_id"]} if current else {}  # none: omitted
        raise Problem.conflict(
            "counter_offer_mismatch",
            f"Counter-offer {named} is not the current counter-offer of bid {bid['_id']}; "
            "read the bid again.",
            **known,
        )
    if current is None:  # never countered: the bid itself refuses the answer
        bid_target = "accepted" if target == "accepted" else "pending"
        machine = tx.ctx.bid_machine
        machine.require("acceptCounterOffer", bid["status"], bid_target, entity_id=bid["_id"])
        raise AssertionError(f"bid {bid['_id']} is countered without a counter-offer")
    tx.ctx.counter_machine.require(
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
    tx.ctx.bid_machine.require("acceptCounterOffer", bid["status"], "pending", entity_id=bid["_id"])
    pending = store.revise(bid, tx.stamp, status="pending")
    store.save(tx.conn, BID, bid, pending)
    counter = settle.close_counter(tx, bid, "acceptCounterOffer", "declined")
    _notify(tx, bid, lot, "counter_declined", "Counter-offer declined", "declined")
    return {"bid": pending, "counterOffer": counter}


def _notify(tx: Tx, bid: Doc, lot: Doc, kind: str, title: str, verb: str) -> None:
    message = f"{bid['bidderName']} {verb} your counter-offer on {lot['title']}"
    tx.notify(lot["orgId"], kind, title, message, lot_id=lot["_id"], bid_id=bid["_id"])


def _lot_of(tx: Tx, bid: Doc) -> Doc:
    lot = store.fetch(tx.conn, LOT, bid["lotId"])
    assert lot is not None, f"bid {bid['_id']} names a missing lot"
    return lot
