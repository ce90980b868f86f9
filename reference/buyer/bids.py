"""Bids: producers submit them (idempotently) and read them back; the buyer lists, reads and
decides them."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from lotflow.reference.buyer import rules, settle
from lotflow.reference.buyer.kinds import BID, CONTRACT, COUNTER, LOT
from lotflow.reference.buyer.tables import bids
from lotflow.reference.common import shapes, store
from lotflow.reference.common.store import Doc
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.exc import IntegrityError

from lotflow.db import Prepared
from lotflow.errors import ConflictError, NotFoundError
from lotflow.http import OperationRequest, Reply

if TYPE_CHECKING:
    from lotflow.reference.buyer.context import BuyerContext, Tx

__all__ = [
    "PRODUCER_SOURCE",
    "bid_detail",
    "decide_bid",
    "external_bid",
    "get_bid",
    "get_external_bid",
    "list_lot_bids",
    "owned_bid",
    "replay_after_race",
    "submit_bid",
    "terms_hash",
]

PRODUCER_SOURCE = "producer-dashboard"
REJECTED_BY_BUYER = "rejected_by_buyer"
_BY_EXTERNAL_ID = Prepared(
    select(bids.c.doc, bids.c.terms_hash).where(
        bids.c.lot_id == bindparam("lot_id"), bids.c.external_bid_id == bindparam("external_id")
    )
)


# ---------------------------------------------------------------------------------- submit


def submit_bid(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """submitBid: 201 with the new pending bid; a repeat of the same submission is 200 with the
    stored bid, the same externalBidId with other terms 409 (idempotent, also under races: the
    unique key decides, and the loser reads the winner's bid)."""
    body = req.body
    terms = terms_hash(body)
    rules.expiry_stamp(body.get("expiresAt"), "/expiresAt")
    try:
        with ctx.transaction() as tx:
            return _submit(tx, body, terms)
    except ConflictError as refused:
        if not isinstance(refused.__cause__, IntegrityError):
            raise
        return replay_after_race(ctx, body, terms, refused)


def replay_after_race(
    ctx: BuyerContext, body: dict[str, Any], terms: str, lost: ConflictError
) -> Reply:
    """After ``lost`` (a write refused by a unique key): when a concurrent duplicate of this
    submission was inserted first, answer as a repeat of its submission; otherwise raise
    ``lost`` as it was."""
    with ctx.db.read() as conn:
        found = _by_external_id(conn, body["lotId"], body["externalBidId"])
    if found is None:  # the constraint that fired was not the idempotency key
        raise lost
    return _replay(found, terms)


def _submit(tx: Tx, body: dict[str, Any], terms: str) -> Reply:
    lot = store.require(tx.conn, LOT, body["lotId"], not_status="draft")
    existing = _by_external_id(tx.conn, lot["_id"], body["externalBidId"])
    if existing is not None:
        return _replay(existing, terms)
    if lot["status"] != "published":
        raise ConflictError(
            f"Lot {lot['_id']} is {lot['status']}; bids are taken only while it is published.",
            "lot_not_open",
            currentState=lot["status"],
        )
    amount = body["volume"]["amount"]
    rules.check(
        rules.volume_errors(body["volume"], lot) + rules.pricing_errors(amount, body["pricing"])
    )
    bid = _new_bid(tx, body, lot)
    stored = tx.create(BID, bid, "submitBid", terms_hash=terms)
    tx.notify(
        lot["orgId"],
        "bid_received",
        "New bid received",
        f"New bid received on {lot['title']} from {bid['bidderName']}",
        lot_id=lot["_id"],
        bid_id=bid["_id"],
    )
    if bid["expiresAt"] is not None:
        tx.expiry_set()
    return Reply(201, raw_json=store.splice_one("bid", stored))


def _new_bid(tx: Tx, body: dict[str, Any], lot: Doc) -> Doc:
    """A pending bid document: the validated submission (what it left out is null, as the Bid
    schema has it) and what the buyer adds."""
    absent = {name: None for name in shapes.optional_members("buyer", "BidSubmission")}
    return {
        "_id": tx.new_id(),
        "buyerOrgId": lot["orgId"],
        **absent,
        **body,
        "lotId": lot["_id"],
        "status": tx.ctx.machine(BID).initial,
        "source": PRODUCER_SOURCE,
        "counterOfferId": None,
        "contractId": None,
        "rejectionReason": None,
        "createdAt": tx.stamp,
        "updatedAt": tx.stamp,
        "version": 1,
    }


def _by_external_id(conn: Connection, lot_id: str, external_id: str) -> tuple[str, str] | None:
    """The stored bid's JSON and terms hash for ``(lotId, externalBidId)``."""
    row = _BY_EXTERNAL_ID.first(conn, {"lot_id": lot_id, "external_id": external_id})
    return (row[0], row[1]) if row is not None else None


def _replay(found: tuple[str, str], terms: str) -> Reply:
    text, stored_terms = found
    if stored_terms != terms:
        bid = store.loads(text)
        raise ConflictError(
            f"externalBidId {bid['externalBidId']!r} was already submitted on lot {bid['lotId']} "
            f"with other terms (bid {bid['_id']}); use a new externalBidId for a new bid.",
            "duplicate_external_bid",
            bidId=bid["_id"],
        )
    return Reply(200, raw_json=store.splice_one("bid", text))


def terms_hash(body: dict[str, Any]) -> str:
    """A fingerprint of a submission: equal for the same terms however the numbers are written."""
    canonical = json.dumps(_canonical(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


# ---------------------------------------------------------------------------------- reads


def bid_detail(conn: Connection, bid: Doc) -> Doc:
    """``{bid, counterOffer?, contract?}``: the bid with its current counter-offer and contract."""
    detail: Doc = {"bid": bid}
    if bid.get("counterOfferId") and (counter := store.fetch(conn, COUNTER, bid["counterOfferId"])):
        detail["counterOffer"] = counter
    if bid.get("contractId") and (contract := store.fetch(conn, CONTRACT, bid["contractId"])):
        detail["contract"] = contract
    return detail


def get_external_bid(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """getExternalBid: a bid submitted through the API, with its counter-offer and contract."""
    bid_id = req.path_params["bidId"]
    with ctx.db.read() as conn:
        bid = external_bid(conn, bid_id)
        return Reply(200, raw_json=store.encode(bid_detail(conn, bid)))


def external_bid(conn: Connection, bid_id: str) -> Doc:
    """A bid submitted through the producers' API, or not found."""
    bid = store.require(conn, BID, bid_id)
    if bid.get("source") != PRODUCER_SOURCE:
        raise NotFoundError(BID.name, bid_id)
    return bid


def get_bid(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """getBid: a bid on one of the organisation's lots."""
    with ctx.db.read() as conn:
        bid = owned_bid(conn, req.path_params["bidId"], req.principal.org_id)
        return Reply(200, raw_json=store.encode(bid_detail(conn, bid)))


def owned_bid(conn: Connection, bid_id: str, org_id: str) -> Doc:
    """A bid on one of ``org_id``'s lots, or not found."""
    return store.require(conn, BID, bid_id, org_id=org_id)


def list_lot_bids(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """listLotBids: the bids on one of the organisation's lots, oldest first."""
    lot_id, query = req.path_params["lotId"], req.query
    where = [bids.c.lot_id == lot_id]
    if query.get("status") is not None:
        where.append(bids.c.status == query["status"])
    with ctx.db.read() as conn:
        store.require(conn, LOT, lot_id, org_id=req.principal.org_id)
        limit, offset = query["limit"], query["offset"]
        found = store.page(conn, bids, where, limit=limit, offset=offset, newest_first=False)
    return Reply(200, raw_json=store.splice_list("bids", found))


# ---------------------------------------------------------------------------------- decide


def decide_bid(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """decideBid: accept (the lot is awarded, the contract made unless ``createContract`` is
    false) or reject (a pending counter-offer is withdrawn)."""
    body = req.body
    with ctx.transaction() as tx:
        bid = owned_bid(tx.conn, req.path_params["bidId"], req.principal.org_id)
        settle.require_unexpired(tx, "bid", bid, "decideBid")
        lot = tx.current(LOT, bid["lotId"])
        if body["status"] == "rejected":
            rejected = _reject(tx, bid, body.get("reason"))
            return Reply(200, raw_json=store.encode({"bid": rejected}))
        create = body.get("createContract", True)
        done = settle.award(
            tx, bid, lot, cause="decideBid", create=create, terms=body.get("contract")
        )
    result = {"bid": done.bid} | ({"contract": done.contract} if done.contract else {})
    return Reply(200, raw_json=store.encode(result))


def _reject(tx: Tx, bid: Doc, reason: str | None) -> Doc:
    said = {"reason": reason or REJECTED_BY_BUYER}
    rejected = tx.move(BID, bid, "decideBid", "rejected", say=said, rejectionReason=reason)
    settle.close_counter(tx, bid, "decideBid", "withdrawn")
    return rejected
