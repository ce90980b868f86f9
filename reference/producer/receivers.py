"""The three webhook receivers: verify, de-duplicate, apply in one transaction, then answer.

Signatures are checked by the authenticators (on the raw body, before parsing); a refused one
raises its ``SignatureError`` and the HTTP boundary answers 401 with its code
(``invalid_signature``, ``stale_signature``). A delivery whose webhook-id was seen before is
acknowledged as a duplicate; an entity version not newer than the stored one is acknowledged and
ignored; an unknown event type is acknowledged and ignored. The producer's status of a bid comes
from the workflow's mapping of the buyer's status, and every change of it is a transition of
``producer.bid`` caused by the event.
"""

from __future__ import annotations

from collections.abc import Callable

from lotflow.reference.common import store
from lotflow.reference.common.store import Doc
from lotflow.reference.common.transaction import Transaction
from lotflow.reference.producer import bids
from lotflow.reference.producer.context import ProducerContext
from lotflow.reference.producer.contracts import store_contract
from lotflow.reference.producer.marketplace import award_lot, upsert_lot
from lotflow.reference.producer.settings import ProducerSettings
from lotflow.reference.producer.tables import BID, received
from lotflow.reference.producer.tables import bids as bid_table
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request

from lotflow.clock import Clock
from lotflow.db import Prepared
from lotflow.http import (
    Authenticator,
    ForOperation,
    OperationRequest,
    Reply,
    SchemeAuthenticator,
)
from lotflow.openapi import Operation
from lotflow.signing import WebhookVerifier, verify_legacy_bearer

Applier = Callable[[Transaction, ProducerContext, Doc], tuple[bool, str | None]]


# ---------------------------------------------------------------- authentication
LOT_RECEIVER = "receiveLotWebhook"
"""The receiver verified with the lot secrets (``MARKETPLACE_WEBHOOK_SECRET``); the others are
verified with the bid secrets (``BUYER_WEBHOOK_SECRET``)."""


def authenticators(settings: ProducerSettings, clock: Clock) -> dict[str, SchemeAuthenticator]:
    """``standardWebhooks`` verifies signatures, ``legacyBearer`` today's static bearer, each
    bound to the secrets of the operation it guards; the profile not configured declines, so
    the other one decides. A refused signature raises its ``SignatureError``."""
    legacy = settings.webhook_auth == "legacy-bearer"

    def secrets_of(op: Operation) -> tuple[str, ...]:
        return settings.lot_secrets if op.operation_id == LOT_RECEIVER else settings.bid_secrets

    def signed(op: Operation) -> Authenticator:
        verifier = WebhookVerifier(secrets_of(op), clock)

        def verify(request: Request, raw: bytes) -> str | None:
            return None if legacy else verifier.verify(request.headers, raw)

        return verify

    def bearer(op: Operation) -> Authenticator:
        secrets = secrets_of(op)

        def verify(request: Request, _raw: bytes) -> str | None:
            if not legacy:
                return None
            verify_legacy_bearer(request.headers, secrets)
            return request.headers.get("webhook-id", "")

        return verify

    return {"standardWebhooks": ForOperation(signed), "legacyBearer": ForOperation(bearer)}


# ---------------------------------------------------------------- receiving
def receive(ctx: ProducerContext, req: OperationRequest) -> Reply:
    """receiveLotWebhook, receiveBidWebhook, receiveContractWebhook."""
    body = req.body
    event, webhook_id = body["event"], req.principal or body.get("eventId") or ""
    apply = APPLIERS.get(event)
    try:
        with ctx.transaction() as tx:
            if webhook_id and _seen(tx, webhook_id, event):
                return _ack(webhook_id, duplicate=True, note="this webhook-id was processed before")
            applied, note = (
                apply(tx, ctx, body) if apply else (False, f"unknown event type {event!r}, ignored")
            )
    except IntegrityError:  # a concurrent delivery of the same webhook-id recorded it first
        return _ack(webhook_id, duplicate=True, note="this webhook-id was processed before")
    return _ack(webhook_id, applied=applied, note=note)


# Every delivery runs both: compiled once and run on the driver's cursor (lotflow.db.Prepared).
_SEEN = Prepared(
    select(received.c.webhook_id).where(received.c.webhook_id == bindparam("webhook_id"))
)
_RECEIVED = Prepared(received.insert(), column_keys=("webhook_id", "event", "received_at"))


def _seen(tx: Transaction, webhook_id: str, event: str) -> bool:
    conn: Connection = tx.conn
    if _SEEN.first(conn, {"webhook_id": webhook_id}) is not None:
        return True
    _RECEIVED.rowcount(conn, {"webhook_id": webhook_id, "event": event, "received_at": tx.stamp})
    return False


def _ack(
    webhook_id: str, *, duplicate: bool = False, applied: bool = False, note: str | None = None
) -> Reply:
    body: Doc = {
        "received": True,
        "eventId": webhook_id,
        "duplicate": duplicate,
        "applied": applied,
    }
    if note:
        body["note"] = note
    return Reply(200, body)


# ---------------------------------------------------------------- lot events
def _lot_event(tx: Transaction, ctx: ProducerContext, body: Doc) -> tuple[bool, str | None]:
    deleted = body["event"] == "lot.deleted"
    applied, note = upsert_lot(
        tx, ctx, body["lot"], body["event"], organization=body["organization"], closed=deleted
    )
    if deleted and _withdraw_bids_on(tx, ctx, body["lot"]):
        return True, None  # also when a sync closed the lot first: its bids are still open
    return applied, note


def _withdraw_bids_on(tx: Transaction, ctx: ProducerContext, lot: Doc) -> int:
    """The open bids on a withdrawn lot are withdrawn (the machine says which are open); how
    many. Also when the lot event itself is stale: a marketplace sync may have closed the lot
    before lot.deleted arrived, and the sync does not touch bids."""
    sources = ctx.machine(BID).sources("lot.deleted", "withdrawn")
    on_lot = [bid_table.c.lot_id == lot["_id"], bid_table.c.status.in_(sources)]
    found = store.fetch_where(tx.conn, BID, *on_lot)
    for bid in found:
        tx.move(BID, bid, "lot.deleted", "withdrawn")
        tx.notify(
            bid["producerOrgId"],
            "lot_withdrawn",
            "Lot withdrawn",
            f"The buyer withdrew {lot['title']}; your bid was withdrawn.",
            lot_id=lot["_id"],
            bid_id=bid["_id"],
        )
    return len(found)


# ---------------------------------------------------------------- bid and contract events
NOTICES = {
    "won": ("bid_won", "Bid won"),
    "lost": ("bid_lost", "Bid lost"),
    "counter_offer": ("counter_offer_received", "Counter-offer received"),
    "submitted": ("counter_offer_expired", "Counter-offer expired"),  # bid.counter_offer, expired
}


def _bid_event(tx: Transaction, ctx: ProducerContext, body: Doc) -> tuple[bool, str | None]:
    event, buyer_bid = body["event"], body["bid"]
    upsert_lot(tx, ctx, body["lot"], "lot.updated")  # a bid event also refreshes a lot we missed
    mine = bids.find_mine(tx.conn, buyer_bid)
    if mine is None:
        return False, f"bid {buyer_bid['_id']} was not submitted by this portal"
    if (mine.get("buyerVersion") or 0) >= buyer_bid["version"]:
        _contract_from(tx, ctx, body, mine, event)
        return False, f"stale bid version {buyer_bid['version']} (have {mine['buyerVersion']})"
    target = _producer_status(ctx, buyer_bid)
    changes: Doc = {"buyerBidId": buyer_bid["_id"], "buyerVersion": buyer_bid["version"]}
    if body.get("counterOffer"):
        changes["counterOffer"] = body["counterOffer"]
    if event == "bid.rejected":
        changes["lostReason"] = body.get("reason") or buyer_bid.get("rejectionReason")
    moves = mine["status"] != target
    if moves and not ctx.machine(BID).allows(event, mine["status"], target):
        return False, f"bid {mine['_id']} is {mine['status']}; {event} cannot make it {target}"
    contract = _contract_from(tx, ctx, body, mine, event)
    if contract:
        changes["contractId"] = contract["_id"]
    if not moves:
        tx.revise(BID, mine, **changes)
        return True, None
    tx.move(BID, mine, event, target, **changes)
    kind, title = NOTICES[target]
    tx.notify(
        mine["producerOrgId"],
        kind,
        title,
        f"{title} on {body['lot'].get('title', body['lot']['_id'])}",
        lot_id=mine["lotId"],
        bid_id=mine["_id"],
    )
    return True, None


def _producer_status(ctx: ProducerContext, buyer_bid: Doc) -> str:
    """The producer's status of a bid in the buyer's status (the workflow's mapping)."""
    status = ctx.workflow.producer_status("bid", buyer_bid["status"])
    return status or buyer_bid["status"]  # every buyer bid status is mapped (spec check)


def _contract_from(
    tx: Transaction, ctx: ProducerContext, body: Doc, mine: Doc, cause: str
) -> Doc | None:
    contract = body.get("contract")
    if not contract:
        return None
    award_lot(tx, ctx, mine["lotId"], cause)
    return store_contract(tx, ctx, contract, mine, cause)


def _contract_event(tx: Transaction, ctx: ProducerContext, body: Doc) -> tuple[bool, str | None]:
    upsert_lot(tx, ctx, body["lot"], "lot.updated")
    mine = bids.find_mine(tx.conn, body["bid"])
    if mine is None:
        return False, f"contract {body['contract']['_id']} is for a bid this portal did not submit"
    created = _contract_from(tx, ctx, body, mine, "contract.created")
    changes: Doc = {"contractId": body["contract"]["_id"]}
    target = _producer_status(ctx, body["bid"])
    if mine["status"] != target and ctx.machine(BID).allows(
        "contract.created", mine["status"], target
    ):
        tx.move(BID, mine, "contract.created", target, **changes)
    elif created or mine.get("contractId") != changes["contractId"]:
        tx.revise(BID, mine, **changes)
    return created is not None, None if created else "contract already stored"


APPLIERS: dict[str, Applier] = {
    "lot.published": _lot_event,
    "lot.updated": _lot_event,
    "lot.deleted": _lot_event,
    "bid.accepted": _bid_event,
    "bid.rejected": _bid_event,
    "bid.counter_offer": _bid_event,
    "contract.created": _contract_event,
}
