"""Changes that span entities, each inside the caller's transaction: awarding a lot to a bid (with
its contract), rejecting or withdrawing the other open bids, closing a pending counter-offer.

Every state change goes through :meth:`Tx.move`: checked against the workflow machines first
(``IllegalTransitionError``, nothing changed), written with a conditional update, so that of two
concurrent awards on one lot exactly one commits, and announced with exactly the events its
transition emits. Every transaction of the portal changes rows in the same order (lot, then
bids, then their counter-offers, then contracts), so that concurrent transactions on PostgreSQL
wait for each other instead of deadlocking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lotflow.reference.buyer import rules
from lotflow.reference.buyer.kinds import BID, CONTRACT, COUNTER, LOT
from lotflow.reference.buyer.tables import bids
from lotflow.reference.common import shapes, store
from lotflow.reference.common.store import Doc

from lotflow.errors import IllegalTransitionError

if TYPE_CHECKING:
    from lotflow.reference.buyer.context import Tx

__all__ = [
    "Award",
    "award",
    "close_counter",
    "counter_pricing",
    "make_contract",
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
    (reserved when ``create`` is false), the contract made, the other open bids rejected.

    The lot is written first: on PostgreSQL concurrent awards queue on the lot row, and all but
    the first find it no longer published (a conditional update that matches nothing: 409).
    """
    tx.ctx.machine(BID).require(cause, bid["status"], "accepted", entity_id=bid["_id"])
    awarded = tx.move(LOT, lot, cause, "sold" if create else "reserved")
    changes: dict[str, Any] = {"contractId": tx.new_id() if create else None}
    if counter is not None:
        changes |= {"volume": counter["volume"], "pricing": counter_pricing(counter)}
    accepted = tx.move(BID, bid, cause, "accepted", **changes)
    answered = close_counter(tx, bid, cause, "accepted") if counter is not None else None
    contract = make_contract(tx, accepted, awarded, cause, terms or {}) if create else None
    reject_open_bids(tx, awarded, accepted["_id"], cause)
    return Award(accepted, awarded, contract, answered)


def counter_pricing(counter: Doc) -> Doc:
    """A counter-offer's terms as a ``Pricing`` (the members the Pricing schema declares)."""
    return {k: counter[k] for k in shapes.members("buyer", "Pricing") if counter.get(k) is not None}


def make_contract(tx: Tx, bid: Doc, lot: Doc, cause: str, terms: dict[str, Any]) -> Doc:
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
        "counterOfferId": _accepted_counter_id(tx, bid),
        "status": tx.ctx.machine(CONTRACT).initial,
        "createdAt": tx.stamp,
        "updatedAt": tx.stamp,
        "version": 1,
    }
    tx.create(CONTRACT, contract, cause)
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


def _accepted_counter_id(tx: Tx, bid: Doc) -> str | None:
    """The bid's counter-offer when the bid was accepted on its terms."""
    counter_id = bid.get("counterOfferId")
    if counter_id is None:
        return None
    counter = tx.current(COUNTER, counter_id)
    return counter_id if counter["status"] == "accepted" else None


def _contract_number(tx: Tx, contract_id: str) -> str:
    return f"LF-{tx.now.year}-{contract_id[-6:].upper()}"


def reject_open_bids(tx: Tx, lot: Doc, winner_id: str, cause: str) -> None:
    """The lot's other open bids lose (reason ``lot_awarded``); their producers are told."""
    for bid in _open_bids(tx, lot["_id"], cause, "rejected", exclude=winner_id):
        reason = {"reason": LOT_AWARDED}
        tx.move(BID, bid, cause, "rejected", say=reason, rejectionReason=LOT_AWARDED)
        close_counter(tx, bid, cause, "withdrawn")


def withdraw_open_bids(tx: Tx, lot: Doc) -> None:
    """The withdrawn lot's open bids and their pending counter-offers are withdrawn (producers
    learn it from lot.deleted)."""
    for bid in _open_bids(tx, lot["_id"], "deleteLot", "withdrawn"):
        tx.move(BID, bid, "deleteLot", "withdrawn")
        close_counter(tx, bid, "deleteLot", "withdrawn")


def close_counter(tx: Tx, bid: Doc, cause: str, target: str) -> Doc | None:
    """Move the bid's counter-offer from pending to ``target``; None when it has no pending one."""
    counter_id = bid.get("counterOfferId")
    if counter_id is None:
        return None
    counter = store.fetch(tx.conn, COUNTER, counter_id, status="pending")
    if counter is None:
        return None
    answered: dict[str, Any] = (
        {"respondedAt": tx.stamp} if target in ("accepted", "declined") else {}
    )
    return tx.move(COUNTER, counter, cause, target, **answered)


def _open_bids(
    tx: Tx, lot_id: str, cause: str, target: str, exclude: str | None = None
) -> list[Doc]:
    """The lot's bids that ``cause`` can move to ``target`` (the machine says from where)."""
    sources = tx.ctx.machine(BID).sources(cause, target)
    conditions = [bids.c.lot_id == lot_id, bids.c.status.in_(sources)]
    if exclude is not None:
        conditions.append(bids.c.id != exclude)
    return store.fetch_where(tx.conn, BID, *conditions)


def require_unexpired(tx: Tx, what: str, doc: Doc, cause: str) -> None:
    """Refuse (409 ``illegal_transition``) when a pending bid or counter-offer has passed its
    ``expiresAt`` (the expiry sweep may not have run yet): it is expired, whatever the stored
    status still says."""
    expires = rules.expiry_stamp(doc.get("expiresAt"), "/expiresAt")
    if doc["status"] != "pending" or expires is None or expires > tx.stamp:
        return
    raise IllegalTransitionError(
        f"The {what} {doc['_id']} expired at {doc['expiresAt']}; {cause} is no longer possible.",
        current="expired",
        operation=cause,
    )
