"""The producer's own bids: stored before they are sent, matched to every buyer event."""

from __future__ import annotations

import httpx
from lotflow.reference.common import shapes, store
from lotflow.reference.common.store import Doc
from lotflow.reference.common.transaction import Transaction
from lotflow.reference.producer.context import ProducerContext
from lotflow.reference.producer.contracts import store_contract
from lotflow.reference.producer.marketplace import award_lot, buyer_unavailable
from lotflow.reference.producer.tables import BID, CONTRACT, bids
from sqlalchemy import Connection

from lotflow.errors import TransportError
from lotflow.http import OperationRequest, Reply
from lotflow.problems import Problem

PASSED_ON = {400, 404, 409, 422}  # buyer refusals the producer's caller can act on; others are 502


def find_mine(conn: Connection, buyer_bid: Doc) -> Doc | None:
    """The producer's bid a buyer bid refers to: by externalBidId, then by the buyer's bid id."""
    external = buyer_bid.get("externalBidId", "")
    found = store.fetch_where(conn, BID, bids.c.external_bid_id == external)
    found = found or store.fetch_where(conn, BID, bids.c.buyer_bid_id == buyer_bid["_id"])
    return found[0] if found else None


def _own(conn: Connection, req: OperationRequest) -> Doc:
    return store.require(conn, BID, req.path_params["bidId"], org_id=req.principal.org_id)


def list_bids(ctx: ProducerContext, req: OperationRequest) -> Reply:
    """listProducerBids: the organisation's bids, newest first."""
    query = req.query
    filters = store.equal_to(bids, query, {"status": "status", "lotId": "lot_id"})
    conditions = [bids.c.org_id == req.principal.org_id, *filters]
    with ctx.db.read() as conn:
        found = store.page(conn, bids, conditions, limit=query["limit"], offset=query["offset"])
    return Reply(200, raw_json=store.splice_list("bids", found))


def get_bid(ctx: ProducerContext, req: OperationRequest) -> Reply:
    """getProducerBid: one of the organisation's bids."""
    with ctx.db.read() as conn:
        return Reply(200, raw_json=store.encode({"bid": _own(conn, req)}))


def submit_bid(ctx: ProducerContext, req: OperationRequest) -> Reply:
    """submitProducerBid: stored as draft (its externalBidId is its own id), then sent."""
    org = req.principal
    with ctx.transaction() as tx:
        ident = tx.new_id()
        bid = {
            "_id": ident,
            "externalBidId": ident,
            "buyerBidId": None,
            "producerOrgId": org.org_id,
            "bidderName": org.name,
            **{name: None for name in shapes.optional_members("producer", "ProducerBidInput")},
            **req.body,
            "status": ctx.machine(BID).initial,
            "counterOffer": None,
            "contractId": None,
            "lostReason": None,
            "lastError": None,
            "buyerVersion": None,
            "createdAt": tx.stamp,
            "updatedAt": tx.stamp,
            "version": 1,
        }
        tx.create(BID, bid, "submitProducerBid")
    return _send(ctx, bid, "submitProducerBid", created=True)


def resubmit_bid(ctx: ProducerContext, req: OperationRequest) -> Reply:
    """resubmitProducerBid: a draft bid sent again, under the same externalBidId."""
    with ctx.db.read() as conn:
        bid = _own(conn, req)
    ctx.machine(BID).require(
        "resubmitProducerBid", bid["status"], "submitted", entity_id=bid["_id"]
    )
    return _send(ctx, bid, "resubmitProducerBid", created=False)


def _submission(ctx: ProducerContext, bid: Doc) -> Doc:
    """The buyer's BidSubmission for ``bid``: its terms (the members the schema declares) and
    the bidder's identity from the organisation."""
    org = ctx.org(bid["producerOrgId"])
    terms = {k: bid[k] for k in shapes.members("buyer", "BidSubmission") if bid.get(k) is not None}
    bidder = {"bidderId": org.org_id, "bidderName": org.name}
    return terms | bidder | ({"bidderEmail": org.email} if org.email else {})


def _send(ctx: ProducerContext, bid: Doc, cause: str, *, created: bool) -> Reply:
    try:
        response = ctx.buyer.call("submitBid", body=_submission(ctx, bid))
    except TransportError as exc:
        raise buyer_unavailable(f"{exc} The bid is kept as draft; resubmit it.") from exc
    with ctx.transaction() as tx:
        current = tx.current(BID, bid["_id"])
        if response.status_code in (200, 201):
            buyer_bid = response.json()["bid"]
            done = tx.move(
                BID,
                current,
                cause,
                "submitted",
                buyerBidId=buyer_bid["_id"],
                buyerVersion=buyer_bid["version"],
                lastError=None,
            )
            return Reply(201 if created else 200, raw_json=store.encode({"bid": done}))
        if response.status_code >= 500 or response.status_code not in PASSED_ON:
            raise buyer_unavailable(
                f"POST /api/bids answered {response.status_code}: {response.text[:200]}. The "
                f"bid is kept as draft."
            )
        refused = _problem_of(response)
        tx.move(BID, current, cause, "failed", lastError=refused)
    raise passed_on(response, refused, "bid")


def _problem_of(response: httpx.Response) -> Doc:
    try:
        body = response.json()
    except ValueError:
        body = None
    if _is_problem(body):
        return dict(body)
    said = (
        [body.get(k) for k in ("error", "detail", "title", "message")]
        if isinstance(body, dict)
        else []
    )
    message = next((m for m in said if isinstance(m, str)), response.text[:200])  # today's {error}
    return {
        "type": "about:blank",
        "title": "Buyer refusal",
        "status": response.status_code,
        "detail": str(message),
    }


def _is_problem(body: object) -> bool:
    """A problem document as the spec's Problem schema has it (else it is wrapped in one)."""
    if not isinstance(body, dict):
        return False
    status = body.get("status")
    texts = all(isinstance(body.get(k), str) for k in ("type", "title"))
    in_range = isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599
    return (
        texts
        and in_range
        and all(isinstance(body.get(k, ""), str) for k in ("detail", "instance", "code"))
    )


def passed_on(response: httpx.Response, buyer_problem: Doc, what: str) -> Problem:
    code = str(buyer_problem.get("code") or "buyer_refused")
    detail = (
        f"The buyer portal refused the {what} ({response.status_code}): "
        f"{buyer_problem.get('detail') or buyer_problem.get('title')}"
    )
    return Problem(
        response.status_code,
        "Refused by the buyer portal",
        detail,
        code,
        extra={"buyerProblem": buyer_problem},
    )


def respond_to_counter(ctx: ProducerContext, req: OperationRequest) -> Reply:
    """respondToCounterOffer: the answer is sent to the buyer, then applied here."""
    accept = req.body["accept"]
    with ctx.db.read() as conn:
        bid = _own(conn, req)
    target = "won" if accept else "submitted"
    ctx.machine(BID).require("respondToCounterOffer", bid["status"], target, entity_id=bid["_id"])
    counter_id = (bid.get("counterOffer") or {}).get("_id")
    body = {"accept": accept, **({"counterOfferId": counter_id} if counter_id else {})}
    try:
        response = ctx.buyer.call(
            "acceptCounterOffer", path={"bidId": bid["buyerBidId"]}, body=body
        )
    except TransportError as exc:
        raise buyer_unavailable(str(exc)) from exc
    if response.status_code != 200:
        if response.status_code >= 500 or response.status_code not in PASSED_ON:
            raise buyer_unavailable(
                f"accept-counter answered {response.status_code}: {response.text[:200]}"
            )
        raise passed_on(response, _problem_of(response), "counter-offer answer")
    return _apply_answer(ctx, bid["_id"], target, response.json())


def _apply_answer(ctx: ProducerContext, bid_id: str, target: str, answer: Doc) -> Reply:
    with ctx.transaction() as tx:
        current = tx.current(BID, bid_id)
        contract = answer.get("contract")
        changes: Doc = {
            "counterOffer": answer["counterOffer"],
            "buyerVersion": max(answer["bid"]["version"], current.get("buyerVersion") or 0),
        }
        stored = _contract_of_answer(tx, ctx, contract, current) if contract else None
        if stored:
            changes["contractId"] = stored["_id"]
        if current["status"] != target:  # a webhook may have got here first
            updated = tx.move(BID, current, "respondToCounterOffer", target, **changes)
        else:
            updated = tx.revise(BID, current, **changes)
    return Reply(
        200, raw_json=store.encode({"bid": updated} | ({"contract": stored} if stored else {}))
    )


def _contract_of_answer(tx: Transaction, ctx: ProducerContext, contract: Doc, bid: Doc) -> Doc:
    """The contract the buyer returned with an accepted counter-offer, stored once (the lot is
    awarded with it), or as stored already: the buyer's bid.accepted webhook, sent as it
    committed, may have been received before its answer to this call."""
    created = store_contract(tx, ctx, contract, bid, "respondToCounterOffer")
    if created is None:
        return store.require(tx.conn, CONTRACT, contract["_id"])
    award_lot(tx, ctx, bid["lotId"], "contract.created")
    return created
