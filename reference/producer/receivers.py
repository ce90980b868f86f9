"""The three webhook receivers: verify, de-duplicate, apply in one transaction, then answer.

Signatures are checked by the authenticators (on the raw body, before parsing). A delivery whose
webhook-id was seen before is acknowledged as a duplicate; an entity version not newer than the
stored one is acknowledged and ignored; an unknown event type is acknowledged and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lotflow.reference.common import docstore
from lotflow.reference.common.docstore import Doc
from lotflow.reference.common.notifications import notify
from lotflow.reference.producer import bids
from lotflow.reference.producer.context import ProducerContext
from lotflow.reference.producer.contracts import store_contract
from lotflow.reference.producer.marketplace import award_lot, upsert_lot
from lotflow.reference.producer.settings import ProducerSettings
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request

from lotflow.clock import Clock, isoformat
from lotflow.errors import SignatureError
from lotflow.http import OperationRequest, Reply
from lotflow.problems import Problem
from lotflow.signing import WebhookVerifier, verify_legacy_bearer

Applier = Callable[[Connection, ProducerContext, Doc], tuple[bool, str | None]]
OPEN = ("submitted", "counter_offer")


# ---------------------------------------------------------------- authentication
def authenticators(
    settings: ProducerSettings, clock: Clock
) -> dict[str, Callable[[Request, bytes], Any]]:
    lots, others = (
        WebhookVerifier(settings.lot_secrets, clock),
        WebhookVerifier(settings.bid_secrets, clock),
    )
    legacy = settings.webhook_auth == "legacy-bearer"

    def signed(request: Request, raw: bytes) -> str | None:
        if legacy:
            return None
        verifier = lots if request.url.path.endswith("/lots") else others
        try:
            return verifier.verify(request.headers, raw)
        except SignatureError as exc:
            raise Problem.unauthorized(f"Webhook signature refused: {exc}") from None

    def bearer(request: Request, _raw: bytes) -> str | None:
        if not legacy:
            return None
        secrets = (
            settings.lot_secrets if request.url.path.endswith("/lots") else settings.bid_secrets
        )
        try:
            verify_legacy_bearer(request.headers, secrets)
        except SignatureError as exc:
            raise Problem.unauthorized(f"Webhook authorization refused: {exc}") from None
        return request.headers.get("webhook-id", "")

    return {"standardWebhooks": signed, "legacyBearer": bearer}


# ---------------------------------------------------------------- receiving
def receive(ctx: ProducerContext, req: OperationRequest) -> Reply:
    body = req.body
    event, webhook_id = body["event"], req.principal or body.get("eventId") or ""
    apply = APPLIERS.get(event)
    try:
        with ctx.db.write() as conn:
            if webhook_id and _seen(conn, ctx, webhook_id, event):
                return _ack(webhook_id, duplicate=True, note="this webhook-id was processed before")
            applied, note = (
                apply(conn, ctx, body)
                if apply
                else (False, f"unknown event type {event!r}, ignored")
            )
    except IntegrityError:  # a concurrent delivery of the same webhook-id recorded it first
        return _ack(webhook_id, duplicate=True, note="this webhook-id was processed before")
    return _ack(webhook_id, applied=applied, note=note)


def _seen(conn: Connection, ctx: ProducerContext, webhook_id: str, event: str) -> bool:
    received = ctx.tables.received
    if conn.execute(received.select().where(received.c.webhook_id == webhook_id)).first():
        return True
    conn.execute(
        received.insert().values(
            webhook_id=webhook_id, event=event, received_at=isoformat(ctx.clock.now())
        )
    )
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
def _lot_event(conn: Connection, ctx: ProducerContext, body: Doc) -> tuple[bool, str | None]:
    deleted = body["event"] == "lot.deleted"
    applied, note = upsert_lot(
        conn, ctx, body["lot"], body["event"], organization=body["organization"], closed=deleted
    )
    if applied and deleted:
        _withdraw_bids_on(conn, ctx, body["lot"])
    return applied, note


def _withdraw_bids_on(conn: Connection, ctx: ProducerContext, lot: Doc) -> None:
    table = ctx.tables.bids
    for bid in docstore.find(conn, table, table.c.lot_id == lot["_id"], table.c.status.in_(OPEN)):
        ctx.bid_machine.require("lot.deleted", bid["status"], "withdrawn", entity_id=bid["_id"])
        bids.save(
            conn, ctx, docstore.changed(bid, ctx.clock.now(), status="withdrawn"), bid["version"]
        )
        notify(
            conn,
            ctx.tables.notifications,
            ctx.clock.now(),
            bid["producerOrgId"],
            "lot_withdrawn",
            "Lot withdrawn",
            f"The buyer withdrew {lot['title']}; your bid was withdrawn.",
            lot_id=lot["_id"],
            bid_id=bid["_id"],
        )


# ---------------------------------------------------------------- bid and contract events
BID_TARGETS = {"bid.accepted": "won", "bid.rejected": "lost", "bid.counter_offer": "counter_offer"}
NOTICES = {
    "won": ("bid_won", "Bid won"),
    "lost": ("bid_lost", "Bid lost"),
    "counter_offer": ("counter_offer_received", "Counter-offer received"),
}


def _bid_event(conn: Connection, ctx: ProducerContext, body: Doc) -> tuple[bool, str | None]:
    event, buyer_bid = body["event"], body["bid"]
    upsert_lot(conn, ctx, body["lot"], "lot.updated")  # a bid event also refreshes a lot we missed
    mine = bids.find_mine(conn, ctx, buyer_bid)
    if mine is None:
        return False, f"bid {buyer_bid['_id']} was not submitted by this portal"
    if (mine.get("buyerVersion") or 0) >= buyer_bid["version"]:
        _contract_from(conn, ctx, body, mine, event)
        return False, f"stale bid version {buyer_bid['version']} (have {mine['buyerVersion']})"
    target = BID_TARGETS[event]
    changes: Doc = {"buyerBidId": buyer_bid["_id"], "buyerVersion": buyer_bid["version"]}
    if body.get("counterOffer"):
        changes["counterOffer"] = body["counterOffer"]
    if event == "bid.rejected":
        changes["lostReason"] = body.get("reason") or buyer_bid.get("rejectionReason")
    if mine["status"] != target:
        if not ctx.bid_machine.allows(event, mine["status"], target):
            return False, f"bid {mine['_id']} is {mine['status']}; {event} cannot make it {target}"
        changes["status"] = target
    contract = _contract_from(conn, ctx, body, mine, event)
    if contract:
        changes["contractId"] = contract["_id"]
    updated = docstore.changed(mine, ctx.clock.now(), **changes)
    bids.save(conn, ctx, updated, mine["version"])
    if "status" in changes:
        kind, title = NOTICES[target]
        notify(
            conn,
            ctx.tables.notifications,
            ctx.clock.now(),
            mine["producerOrgId"],
            kind,
            title,
            f"{title} on {body['lot'].get('title', body['lot']['_id'])}",
            lot_id=mine["lotId"],
            bid_id=mine["_id"],
        )
    return True, None


def _contract_from(
    conn: Connection, ctx: ProducerContext, body: Doc, mine: Doc, cause: str
) -> Doc | None:
    contract = body.get("contract")
    if not contract:
        return None
    award_lot(conn, ctx, mine["lotId"], cause)
    return store_contract(conn, ctx, contract, mine, cause)


def _contract_event(conn: Connection, ctx: ProducerContext, body: Doc) -> tuple[bool, str | None]:
    upsert_lot(conn, ctx, body["lot"], "lot.updated")
    mine = bids.find_mine(conn, ctx, body["bid"])
    if mine is None:
        return False, f"contract {body['contract']['_id']} is for a bid this portal did not submit"
    created = _contract_from(conn, ctx, body, mine, "contract.created")
    changes: Doc = {"contractId": body["contract"]["_id"]}
    if mine["status"] != "won" and ctx.bid_machine.allows(
        "contract.created", mine["status"], "won"
    ):
        changes["status"] = "won"
    if created or changes.get("status") or mine.get("contractId") != changes["contractId"]:
        bids.save(conn, ctx, docstore.changed(mine, ctx.clock.now(), **changes), mine["version"])
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
