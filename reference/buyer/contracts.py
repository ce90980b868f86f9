"""Contracts: made with an acceptance (or later, for a bid accepted with ``createContract:
false``), then moved along the buyer's own lifecycle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lotflow.reference.buyer import settle
from lotflow.reference.buyer.bids import external_bid, owned_bid
from lotflow.reference.buyer.kinds import BID, CONTRACT, LOT
from lotflow.reference.buyer.tables import contracts
from lotflow.reference.common import store
from lotflow.reference.common.store import Doc
from sqlalchemy import Connection

from lotflow.errors import ConflictError, IllegalTransitionError, NotFoundError
from lotflow.http import OperationRequest, Reply

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
            raise IllegalTransitionError(
                f"Bid {bid['_id']} is {bid['status']}; createContract needs an accepted bid.",
                current=bid["status"],
                operation="createContract",
            )
        if bid.get("contractId"):
            raise ConflictError(
                f"Bid {bid['_id']} already has contract {bid['contractId']}.",
                "contract_exists",
                contractId=bid["contractId"],
            )
        lot = tx.move(LOT, tx.current(LOT, bid["lotId"]), "createContract", "sold")  # lot first
        with_contract = tx.revise(BID, bid, contractId=tx.new_id())
        contract = settle.make_contract(tx, with_contract, lot, "createContract", body)
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
        contract = store.require(conn, CONTRACT, contract_id)
        try:
            external_bid(conn, contract["bidId"])
        except NotFoundError:
            raise NotFoundError(CONTRACT.name, contract_id) from None
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
        moved = tx.move(CONTRACT, contract, "updateContractStatus", target)
    return Reply(200, raw_json=store.encode({"contract": moved}))


def _owned(conn: Connection, contract_id: str, org_id: str) -> Doc:
    return store.require(conn, CONTRACT, contract_id, org_id=org_id)
