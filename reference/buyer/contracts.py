"""Contracts: made in the transaction that accepts a bid, or later for a reserved lot."""

from __future__ import annotations

from typing import Any

from lotflow.reference.buyer import outbox
from lotflow.reference.buyer.context import BuyerContext
from lotflow.reference.common import docstore
from lotflow.reference.common.docstore import Doc
from lotflow.reference.common.notifications import notify
from sqlalchemy import Connection

from lotflow.clock import isoformat
from lotflow.http import OperationRequest, Reply
from lotflow.ids import new_object_id
from lotflow.problems import Problem


def new_contract(
    conn: Connection, ctx: BuyerContext, lot: Doc, bid: Doc, terms: Doc, counter: Doc | None
) -> Doc:
    """Insert the contract of an accepted bid (unique per lot and per bid) and notify the buyer."""
    now = ctx.clock.now()
    ident = new_object_id(int(now.timestamp()))
    contract = {
        "_id": ident,
        "contractNumber": terms.get("contractNumber") or f"LF-{now:%Y}-{ident[-6:].upper()}",
        "lotId": lot["_id"],
        "bidId": bid["_id"],
        "externalBidId": bid["externalBidId"],
        "buyerOrgId": lot["orgId"],
        "sellerOrgId": bid["bidderId"],
        "volume": bid["volume"],
        "pricing": bid["pricing"],
        "terms": terms.get("terms"),
        "deliveryDate": terms.get("deliveryDate")
        or bid.get("deliveryDate")
        or lot.get("delivery", {}).get("deliveryDate"),
        "deliveryLocation": terms.get("deliveryLocation")
        or bid.get("deliveryLocation")
        or lot.get("delivery", {}).get("deliveryLocation"),
        "counterOfferId": counter["_id"] if counter else None,
        "status": "draft",
        "createdAt": isoformat(now),
        "updatedAt": isoformat(now),
        "version": 1,
    }
    docstore.insert(conn, ctx.tables.contracts, contract, **_columns(contract))
    notify(
        conn,
        ctx.tables.notifications,
        now,
        lot["orgId"],
        "contract_created",
        "Contract created",
        f"Contract {contract['contractNumber']} created with {bid['bidderName']} for "
        f"{lot['title']}",
        lot_id=lot["_id"],
        bid_id=bid["_id"],
        contract_id=ident,
    )
    return contract


def _columns(contract: Doc) -> dict[str, Any]:
    return {
        "org_id": contract["buyerOrgId"],
        "lot_id": contract["lotId"],
        "bid_id": contract["bidId"],
        "status": contract["status"],
        "created_at": contract["createdAt"],
    }


def create_contract(ctx: BuyerContext, req: OperationRequest) -> Reply:
    from lotflow.reference.buyer.bids import save_bid
    from lotflow.reference.buyer.lots import save_lot

    body, org = req.body, req.principal.org_id
    with ctx.db.write() as conn:
        bid = docstore.require(
            conn, ctx.tables.bids, body["bidId"], ctx.tables.bids.c.org_id == org, what="bid"
        )
        if bid["status"] != "accepted" or bid.get("contractId"):
            state = "has a contract" if bid.get("contractId") else f"is {bid['status']}"
            raise Problem.conflict(
                "illegal_transition",
                f"Bid {bid['_id']} {state}; a contract is made only for an accepted bid without "
                f"one.",
                currentState=bid["status"],
                operation="createContract",
            )
        lot = docstore.get(conn, ctx.tables.lots, bid["lotId"])
        assert lot is not None
        ctx.lot_machine.require("createContract", lot["status"], "sold", entity_id=lot["_id"])
        sold = docstore.changed(lot, ctx.clock.now(), status="sold")
        save_lot(conn, ctx, sold, lot["version"])
        contract = new_contract(
            conn, ctx, sold, bid, {k: v for k, v in body.items() if k != "bidId"}, None
        )
        linked = docstore.changed(bid, ctx.clock.now(), contractId=contract["_id"])
        save_bid(conn, ctx, linked, bid["version"])
        outbox.lot_event(conn, ctx, "lot.updated", sold)
        outbox.contract_event(conn, ctx, contract, linked, sold)
    ctx.wake()
    return Reply(201, {"contract": contract})


def _own(conn: Connection, ctx: BuyerContext, req: OperationRequest) -> Doc:
    contracts = ctx.tables.contracts
    contract = docstore.require(
        conn,
        contracts,
        req.path_params["contractId"],
        contracts.c.org_id == req.principal.org_id,
        what="contract",
    )
    return contract


def get_contract(ctx: BuyerContext, req: OperationRequest) -> Reply:
    with ctx.db.read() as conn:
        return Reply(200, {"contract": _own(conn, ctx, req)})


def get_external_contract(ctx: BuyerContext, req: OperationRequest) -> Reply:
    with ctx.db.read() as conn:
        contract = docstore.require(
            conn, ctx.tables.contracts, req.path_params["contractId"], what="contract"
        )
    return Reply(200, {"contract": contract})


def list_contracts(ctx: BuyerContext, req: OperationRequest) -> Reply:
    contracts = ctx.tables.contracts
    status = docstore.equal_to(contracts, req.query, {"status": "status"})
    conditions = [contracts.c.org_id == req.principal.org_id, *status]
    with ctx.db.read() as conn:
        return docstore.page_reply(conn, contracts, "contracts", conditions, req.query)


def update_contract_status(ctx: BuyerContext, req: OperationRequest) -> Reply:
    target = req.body["status"]
    with ctx.db.write() as conn:
        contract = _own(conn, ctx, req)
        ctx.contract_machine.require(
            "updateContractStatus", contract["status"], target, entity_id=contract["_id"]
        )
        moved = docstore.changed(contract, ctx.clock.now(), status=target)
        docstore.update(conn, ctx.tables.contracts, moved, contract["version"], **_columns(moved))
    return Reply(200, {"contract": moved})
