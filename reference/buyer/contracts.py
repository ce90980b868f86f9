"""Contracts: made with an acceptance (or later, for a bid accepted with ``createContract:
false``), then moved along the buyer's own lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lotflow.reference.buyer import settle, store
from lotflow.reference.buyer.bids import PRODUCER_SOURCE, owned_bid
from lotflow.reference.buyer.kinds import BID, CONTRACT, LOT
from lotflow.reference.buyer.store import Doc
from lotflow.reference.buyer.tables import contracts
from sqlalchemy import Connection

from lotflow.http import OperationRequest, Reply
from lotflow.problems import Problem

if TYPE_CHECKING:
    from lotflow.reference.buyer.context import BuyerContext

__all__ = [
    "create_contract",
    "get_contract",
    "get_external_contract",
    "list_contracts",
    "update_contract_status",
]


def create_contract(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """createContract: the contract of an accepted bid that has none; the lot goes from reserved
    to sold and contract.created is sent. Terms come from the accepted bid, never the request."""
    body = req.body
    with ctx.transaction() as tx:
        bid = owned_bid(tx.conn, body["bidId"], req.principal.org_id)
        if bid["status"] != "accepted":
            raise Problem.conflict(
                "illegal_transition",
                f"Bid {bid['_id']} is {bid['status']}; createContract needs an accepted bid.",
                currentState=bid["status"],
                operation="createContract",
            )
        if bid.get("contractId"):
            raise Problem.conflict(
                "contract_exists",
                f"Bid {bid['_id']} already has contract {bid['contractId']}.",
                contractId=bid["contractId"],
            )
        lot = store.fetch(tx.conn, LOT, bid["lotId"])
        assert lot is not None, f"bid {bid['_id']} names a missing lot"
        ctx.lot_machine.require("createContract", lot["status"], "sold", entity_id=lot["_id"])
        sold = store.revise(lot, tx.stamp, status="sold")
        store.save(tx.conn, LOT, lot, sold, status="reserved")  # the lot first, as everywhere
        with_contract = store.revise(bid, tx.stamp, contractId=tx.new_id())
        store.save(tx.conn, BID, bid, with_contract)
        contract = settle.create_contract(tx, with_contract, sold, body, None)
        tx.emit("contract.created", lot["orgId"], contract=contract, bid=with_contract, lot=sold)
        tx.emit("lot.updated", lot["orgId"], lot=sold, organization=tx.organization(sold))
    return Reply(201, raw_json=store.encode({"contract": contract}))


def get_contract(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """getContract: one of the organisation's contracts."""
    with ctx.db.read() as conn:
        contract = _owned(conn, req.path_params["contractId"], req.principal.org_id)
    return Reply(200, raw_json=store.encode({"contract": contract}))


def get_external_contract(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """getExternalContract: a contract made from a bid submitted through the API (every bid
    this portal holds came through it)."""
    contract_id = req.path_params["contractId"]
    with ctx.db.read() as conn:
        contract = store.fetch(conn, CONTRACT, contract_id)
        bid = store.fetch(conn, BID, contract["bidId"]) if contract else None
    if contract is None or bid is None or bid.get("source") != PRODUCER_SOURCE:
        raise Problem.not_found("contract", contract_id)
    return Reply(200, raw_json=store.encode({"contract": contract}))


def list_contracts(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """listContracts: the organisation's contracts, newest first."""
    where = [contracts.c.org_id == req.principal.org_id]
    if req.query.get("status") is not None:
        where.append(contracts.c.status == req.query["status"])
    limit, offset = req.query["limit"], req.query["offset"]
    with ctx.db.read() as conn:
        found = store.page(conn, contracts, where, limit=limit, offset=offset)
    return Reply(200, raw_json=store.splice_list("contracts", found))


def update_contract_status(ctx: BuyerContext, req: OperationRequest) -> Reply:
    """updateContractStatus: one step along the contract lifecycle (no webhook)."""
    target = req.body["status"]
    with ctx.transaction() as tx:
        contract = _owned(tx.conn, req.path_params["contractId"], req.principal.org_id)
        ctx.contract_machine.require(
            "updateContractStatus", contract["status"], target, entity_id=contract["_id"]
        )
        moved = store.revise(contract, tx.stamp, status=target)
        store.save(tx.conn, CONTRACT, contract, moved)
    return Reply(200, raw_json=store.encode({"contract": moved}))


def _owned(conn: Connection, contract_id: str, org_id: str) -> Doc:
    contract = store.fetch(conn, CONTRACT, contract_id, org_id=org_id)
    if contract is None:
        raise Problem.not_found("contract", contract_id)
    return contract
