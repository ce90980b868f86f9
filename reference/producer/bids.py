"""The producer's own bids: stored before they are sent, matched to every buyer event."""

from __future__ import annotations

from typing import Any

import httpx
from lotflow.reference.common import docstore
from lotflow.reference.common.docstore import Doc
from lotflow.reference.producer.context import ProducerContext
from lotflow.reference.producer.contracts import store_contract
from lotflow.reference.producer.marketplace import award_lot, buyer_unavailable
from sqlalchemy import Connection

from lotflow.clock import isoformat
from lotflow.errors import TransportError
from lotflow.http import OperationRequest, Reply
from lotflow.ids import new_object_id
from lotflow.problems import Problem

PASSED_ON = {400, 404, 409, 422}  # buyer refusals the producer's caller can act on; others are 502


def columns(bid: Doc) -> dict[str, Any]:
    return {
        "org_id": bid["producerOrgId"],
        "lot_id": bid["lotId"],
        "external_bid_id": bid["externalBidId"],
        "buyer_bid_id": bid.get("buyerBidId"),
        "status": bid["status"],
        "created_at": bid["createdAt"],
    }


def save(conn: Connection, ctx: ProducerContext, bid: Doc, previous: int) -> None:
    docstore.update(conn, ctx.tables.bids, bid, previous, **columns(bid))


def find_mine(conn: Connection, ctx: ProducerContext, buyer_bid: Doc) -> Doc | None:
    """The producer's bid a buyer bid refers to: by externalBidId, then by the buyer's bid id."""
    bids = ctx.tables.bids
    found = docstore.find(conn, bids, bids.c.external_bid_id == buyer_bid.get("externalBidId", ""))
    found = found or docstore.find(conn, bids, bids.c.buyer_bid_id == buyer_bid["_id"])
    return found[0] if found else None


def _own(conn: Connection, ctx: ProducerContext, req: OperationRequest) -> Doc:
    bid = docstore.require(
        conn,
        ctx.tables.bids,
        req.path_params["bidId"],
        ctx.tables.bids.c.org_id == req.principal.org_id,
        what="bid",
    )
    return bid


def list_bids(ctx: ProducerContext, req: OperationRequest) -> Reply:
    bids = ctx.tables.bids
    filters = docstore.equal_to(bids, req.query, {"status": "status", "lotId": "lot_id"})
    conditions = [bids.c.org_id == req.principal.org_id, *filters]
    with ctx.db.read() as conn:
        return docstore.page_reply(conn, bids, "bids", conditions, req.query)


def get_bid(ctx: ProducerContext, req: OperationRequest) -> Reply:
    with ctx.db.read() as conn:
        return Reply(200, {"bid": _own(conn, ctx, req)})


def submit_bid(ctx: ProducerContext, req: OperationRequest) -> Reply:
    now = ctx.clock.now()
    org = req.principal
    ident = new_object_id(int(now.timestamp()))
    bid = {
        "_id": ident,
        "externalBidId": ident,
        "buyerBidId": None,
        "lotId": req.body["lotId"],
        "producerOrgId": org.org_id,
        "bidderName": org.name,
        "status": "draft",
        **req.body,
        "counterOffer": None,
        "contractId": None,
        "lostReason": None,
        "lastError": None,
        "buyerVersion": None,
        "createdAt": isoformat(now),
        "updatedAt": isoformat(now),
        "version": 1,
    }
    bid.setdefault("message", None)
    with ctx.db.write() as conn:
        docstore.insert(conn, ctx.tables.bids, bid, **columns(bid))
    return _send(ctx, bid, "submitProducerBid", created=True)


def resubmit_bid(ctx: ProducerContext, req: OperationRequest) -> Reply:
    with ctx.db.read() as conn:
        bid = _own(conn, ctx, req)
    ctx.bid_machine.require("resubmitProducerBid", bid["status"], "submitted", entity_id=bid["_id"])
    return _send(ctx, bid, "resubmitProducerBid", created=False)


def _submission(ctx: ProducerContext, bid: Doc) -> Doc:
    org = ctx.org(bid["producerOrgId"])
    optional = {k: bid.get(k) for k in ("message", "deliveryDate", "deliveryLocation", "expiresAt")}
    return {
        "lotId": bid["lotId"],
        "volume": bid["volume"],
        "pricing": bid["pricing"],
        "bidderId": org.org_id,
        "bidderName": org.name,
        **({"bidderEmail": org.email} if org.email else {}),
        "externalBidId": bid["externalBidId"],
        **{k: v for k, v in optional.items() if v is not None},
    }


def _send(ctx: ProducerContext, bid: Doc, cause: str, *, created: bool) -> Reply:
    try:
        response = ctx.buyer.call("submitBid", body=_submission(ctx, bid))
    except TransportError as exc:
        raise buyer_unavailable(f"{exc} The bid is kept as draft; resubmit it.") from exc
    with ctx.db.write() as conn:
        current = docstore.get(conn, ctx.tables.bids, bid["_id"])
        assert current is not None
        if response.status_code in (200, 201):
            buyer_bid = response.json()["bid"]
            ctx.bid_machine.require(cause, current["status"], "submitted", entity_id=bid["_id"])
            done = docstore.changed(
                current,
                ctx.clock.now(),
                status="submitted",
                buyerBidId=buyer_bid["_id"],
                buyerVersion=buyer_bid["version"],
                lastError=None,
            )
            save(conn, ctx, done, current["version"])
            return Reply(201 if created else 200, {"bid": done})
        if response.status_code >= 500 or response.status_code not in PASSED_ON:
            raise buyer_unavailable(
                f"POST /api/bids answered {response.status_code}: {response.text[:200]}. The "
                f"bid is kept as draft."
            )
        refused = _problem_of(response)
        failed = docstore.changed(current, ctx.clock.now(), status="failed", lastError=refused)
        save(conn, ctx, failed, current["version"])
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
    accept = req.body["accept"]
    with ctx.db.read() as conn:
        bid = _own(conn, ctx, req)
    target = "won" if accept else "submitted"
    ctx.bid_machine.require("respondToCounterOffer", bid["status"], target, entity_id=bid["_id"])
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
    with ctx.db.write() as conn:
        current = docstore.get(conn, ctx.tables.bids, bid_id)
        assert current is not None
        contract = answer.get("contract")
        changes: Doc = {
            "counterOffer": answer["counterOffer"],
            "buyerVersion": max(answer["bid"]["version"], current.get("buyerVersion") or 0),
        }
        stored = (
            store_contract(conn, ctx, contract, current, "respondToCounterOffer")
            if contract
            else None
        )
        if stored:
            changes["contractId"] = stored["_id"]
            award_lot(conn, ctx, current["lotId"], "contract.created")
        if current["status"] != target:  # a webhook may have got here first
            ctx.bid_machine.require(
                "respondToCounterOffer", current["status"], target, entity_id=bid_id
            )
            changes["status"] = target
        updated = docstore.changed(current, ctx.clock.now(), **changes)
        save(conn, ctx, updated, current["version"])
    return Reply(200, {"bid": updated} | ({"contract": stored} if stored else {}))
