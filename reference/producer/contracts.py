"""Contracts on the producer side: created once from whichever buyer message brings them first,
then moved along the producer's own delivery lifecycle."""

from __future__ import annotations

from lotflow.reference.common import shapes, store
from lotflow.reference.common.store import Doc
from lotflow.reference.common.transaction import Transaction
from lotflow.reference.producer.context import ProducerContext
from lotflow.reference.producer.tables import CONTRACT, contracts
from sqlalchemy import Connection

from lotflow.http import OperationRequest, Reply

__all__ = ["get_contract", "list_contracts", "store_contract", "update_contract"]

_OWN = frozenset({"_id", "bidId", "status", "version", "createdAt", "updatedAt"})  # set here


def _copied_terms() -> tuple[str, ...]:
    """The members of the buyer's Contract that a ProducerContract keeps as they are (the
    spec's two schemas decide; ``bidId`` means the producer's own bid here)."""
    buyer = set(shapes.members("buyer", "Contract"))
    return tuple(m for m in shapes.members("producer", "ProducerContract") if m in buyer - _OWN)


def store_contract(
    tx: Transaction, ctx: ProducerContext, buyer_contract: Doc, bid: Doc, cause: str
) -> Doc | None:
    """Create the contract unless it exists; return it when this call created it."""
    if store.fetch(tx.conn, CONTRACT, buyer_contract["_id"]) is not None:
        return None
    contract = {
        "_id": buyer_contract["_id"],
        **{k: buyer_contract.get(k) for k in _copied_terms()},
        "bidId": bid["_id"],
        "buyerBidId": buyer_contract["bidId"],
        "orgId": bid["producerOrgId"],
        "status": ctx.machine(CONTRACT).initial,
        "buyerStatus": buyer_contract["status"],
        "createdAt": tx.stamp,
        "updatedAt": tx.stamp,
        "version": 1,
    }
    tx.create(CONTRACT, contract, cause)
    tx.notify(
        bid["producerOrgId"],
        "contract_created",
        "Contract created",
        f"Contract {contract['contractNumber']} created for your bid on lot {contract['lotId']}",
        lot_id=contract["lotId"],
        bid_id=bid["_id"],
        contract_id=contract["_id"],
    )
    return contract


def _own(conn: Connection, req: OperationRequest) -> Doc:
    return store.require(conn, CONTRACT, req.path_params["contractId"], org_id=req.principal.org_id)


def get_contract(ctx: ProducerContext, req: OperationRequest) -> Reply:
    """getProducerContract: one of the organisation's contracts."""
    with ctx.db.read() as conn:
        return Reply(200, raw_json=store.encode({"contract": _own(conn, req)}))


def list_contracts(ctx: ProducerContext, req: OperationRequest) -> Reply:
    """listProducerContracts: the organisation's contracts, newest first."""
    query = req.query
    status = store.equal_to(contracts, query, {"status": "status"})
    conditions = [contracts.c.org_id == req.principal.org_id, *status]
    with ctx.db.read() as conn:
        found = store.page(
            conn, contracts, conditions, limit=query["limit"], offset=query["offset"]
        )
    return Reply(200, raw_json=store.splice_list("contracts", found))


def update_contract(ctx: ProducerContext, req: OperationRequest) -> Reply:
    """updateProducerContract: one step along the producer's contract lifecycle."""
    with ctx.transaction() as tx:
        contract = _own(tx.conn, req)
        moved = tx.move(CONTRACT, contract, "updateProducerContract", req.body["status"])
    return Reply(200, raw_json=store.encode({"contract": moved}))
