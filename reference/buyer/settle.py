"""Changes that span entities, each inside the caller's transaction: awarding a lot to a bid (with
its contract), rejecting or withdrawing the other open bids, closing a pending counter-offer.

Every state change is checked against the workflow machines first (409 ``illegal_transition``,
nothing changed) and written with a conditional update, so that of two concurrent awards on one
lot exactly one commits. Every transaction of the portal changes rows in the same order (lot,
then bids, then their counter-offers, then contracts), so that concurrent transactions on
PostgreSQL wait for each other instead of deadlocking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lotflow.reference.buyer import rules, store
from lotflow.reference.buyer.kinds import BID, CONTRACT, COUNTER, LOT, OPEN_BID_STATES
from lotflow.reference.buyer.store import Doc
from lotflow.reference.buyer.tables import bids

from lotflow.problems import Problem

if TYPE_CHECKING:
    from lotflow.reference.buyer.context import Tx

__all__ = [
    "Award",
    "award",
    "close_counter",
    "create_contract",
    "reject_open_bids",
    "require_unexpired",
    "withdraw_open_bids",
]

LOT_AWARDED = "lot_awarded"


@dataclass(frozen=True)
class Award:
    """What an award changed: the accepted bid, the lot, the contract, the counter-offer."""

    bid: Doc
    lot: Doc
    contract: Doc | None
    counter: Doc | None


def award(
    tx: Tx,
    bid: Doc,
    lot: Doc,
    *,
    cause: str,
    create: bool = True,
    terms: dict[str, Any] | None = None,
    counter: Doc | None = None,
) -> Award:
    """Accept ``bid`` (on the terms of its pending ``counter`` when given): the lot is sold
    (reserved when ``create`` is false), the contract made, the other open bids rejected, and
    the events written.

    The lot is written first: on PostgreSQL concurrent awards queue on the lot row, and all but
    the first find it no longer published (a conditional update that matches nothing: 409).
    """
    lot_target = "sold" if create else "reserved"
    tx.ctx.bid_machine.require(cause, bid["status"], "accepted", entity_id=bid["_id"])
    tx.ctx.lot_machine.require(cause, lot["status"], lot_target, entity_id=lot["_id"])
    awarded = store.revise(lot, tx.stamp, status=lot_target)
    store.save(tx.conn, LOT, lot, awarded, status="published")
    changes: dict[str, Any] = {"status": "accepted", "contractId": tx.new_id() if create else None}
    if counter is not None:
        changes |= {"volume": counter["volume"], "pricing": counter_pricing(counter)}
    accepted = store.revise(bid, tx.stamp, **changes)
    store.save(tx.conn, BID, bid, accepted, status=bid["status"])
    answered = close_counter(tx, bid, cause, "accepted") if counter is not None else None
    contract = create_contract(tx, accepted, awarded, terms or {}, answered) if create else None
    _emit_award(tx, accepted, awarded, contract, answered)
    reject_open_bids(tx, awarded, accepted["_id"], cause)
    tx.emit("lot.updated", lot["orgId"], lot=awarded, organization=tx.organization(awarded))
    return Award(accepted, awarded, contract, answered)


def _emit_award(tx: Tx, bid: Doc, lot: Doc, contract: Doc | None, counter: Doc | None) -> None:
    parts = {"contract": contract} if contract else {}
    if counter is not None:
        parts["counterOffer"] = counter
    tx.emit("bid.accepted", lot["orgId"], bid=bid, lot=lot, **parts)
    if contract is not None:
        tx.emit("contract.created", lot["orgId"], contract=contract, bid=bid, lot=lot)


def counter_pricing(counter: Doc) -> Doc:
    """A counter-offer's terms as a ``Pricing``."""
    pricing = {k: counter[k] for k in ("price", "currency", "pricePerUnit")}
    if counter.get("paymentTerms") is not None:
        pricing["paymentTerms"] = counter["paymentTerms"]
    return pricing


def create_contract(tx: Tx, bid: Doc, lot: Doc, terms: dict[str, Any], counter: Doc | None) -> Doc:
    """Insert the contract of an accepted bid (its id is ``bid.contractId``) on the accepted
    terms; the unique keys allow one contract per lot and per bid."""
    delivery = lot.get("delivery") or {}
    contract: Doc = {
        "_id": bid["contractId"],
        "contractNumber": terms.get("contractNumber") or _contract_number(tx, bid["contractId"]),
        "lotId": lot["_id"],
        "bidId": bid["_id"],
        "externalBidId": bid["externalBidId"],
        "buyerOrgId": lot["orgId"],
        "sellerOrgId": bid["bidderId"],
        "volume": bid["volume"],
        "pricing": bid["pricing"],
        "terms": terms.get("terms"),
        "deliveryDate": terms.get("deliveryDate")
        or bid["deliveryDate"]
        or delivery.get("deliveryDate"),
        "deliveryLocation": terms.get("deliveryLocation")
        or bid["deliveryLocation"]
        or delivery.get("deliveryLocation"),
        "counterOfferId": counter["_id"] if counter else None,
        "status": "draft",
        "createdAt": tx.stamp,
        "updatedAt": tx.stamp,
        "version": 1,
    }
    store.insert(tx.conn, CONTRACT, contract)
    tx.notify(
        lot["orgId"],
        "contract_created",
        "Contract created",
        f"Contract {contract['contractNumber']} with {bid['bidderName']} for {lot['title']}",
        lot_id=lot["_id"],
        bid_id=bid["_id"],
        contract_id=contract["_id"],
    )
    return contract


def _contract_number(tx: Tx, contract_id: str) -> str:
    return f"LF-{tx.now.year}-{contract_id[-6:].upper()}"


def reject_open_bids(tx: Tx, lot: Doc, winner_id: str, cause: str) -> None:
    """The lot's other open bids lose (reason ``lot_awarded``); their producers are told."""
    for bid in _open_bids(tx, lot["_id"], exclude=winner_id):
        tx.ctx.bid_machine.require(cause, bid["status"], "rejected", entity_id=bid["_id"])
        rejected = store.revise(bid, tx.stamp, status="rejected", rejectionReason=LOT_AWARDED)
        store.save(tx.conn, BID, bid, rejected)
        close_counter(tx, bid, cause, "withdrawn")
        tx.emit("bid.rejected", lot["orgId"], bid=rejected, lot=lot, reason=LOT_AWARDED)


def withdraw_open_bids(tx: Tx, lot: Doc) -> None:
    """The withdrawn lot's open bids and their pending counter-offers are withdrawn (producers
    learn it from lot.deleted)."""
    for bid in _open_bids(tx, lot["_id"]):
        tx.ctx.bid_machine.require("deleteLot", bid["status"], "withdrawn", entity_id=bid["_id"])
        store.save(tx.conn, BID, bid, store.revise(bid, tx.stamp, status="withdrawn"))
        close_counter(tx, bid, "deleteLot", "withdrawn")


def close_counter(tx: Tx, bid: Doc, cause: str, target: str) -> Doc | None:
    """Move the bid's counter-offer from pending to ``target``; None when it has no pending one."""
    counter_id = bid.get("counterOfferId")
    if counter_id is None:
        return None
    counter = store.fetch(tx.conn, COUNTER, counter_id, status="pending")
    if counter is None:
        return None
    tx.ctx.counter_machine.require(cause, "pending", target, entity_id=counter_id)
    closed = store.revise(counter, tx.stamp, status=target)
    if target in ("accepted", "declined"):
        closed["respondedAt"] = tx.stamp
    store.save(tx.conn, COUNTER, counter, closed)
    return closed


def _open_bids(tx: Tx, lot_id: str, exclude: str | None = None) -> list[Doc]:
    conditions = [bids.c.lot_id == lot_id, bids.c.status.in_(OPEN_BID_STATES)]
    if exclude is not None:
        conditions.append(bids.c.id != exclude)
    return store.fetch_where(tx.conn, BID, *conditions)


def require_unexpired(tx: Tx, what: str, doc: Doc, cause: str) -> None:
    """409 when a pending bid or counter-offer has passed its ``expiresAt`` (the expiry sweep may
    not have run yet): it is expired, whatever the stored status still says."""
    expires = rules.expiry_stamp(doc.get("expiresAt"), "/expiresAt")
    if doc["status"] != "pending" or expires is None or expires > tx.stamp:
        return
    raise Problem.conflict(
        "illegal_transition",
        f"The {what} {doc['_id']} expired at {doc['expiresAt']}; {cause} is no longer possible.",
        currentState="expired",
        operation=cause,
    )
