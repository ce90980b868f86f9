"""Contracts on the producer side: created once from whichever buyer message brings them first."""

from __future__ import annotations

from typing import Any

from lotflow.reference.common import docstore
from lotflow.reference.common.docstore import Doc
from lotflow.reference.common.notifications import notify
from lotflow.reference.producer.context import ProducerContext
from sqlalchemy import Connection

from lotflow.clock import isoformat
from lotflow.http import OperationRequest, Reply

FIELDS = (
    "contractNumber",
    "lotId",
    "buyerOrgId",
    "sellerOrgId",
    "volume",
    "pricing",
    "terms",
    "deliveryDate",
    "deliveryLocation",
)


def _columns(contract: Doc) -> dict[str, Any]:
    return {
        "org_id": contract["orgId"],
        "buyer_bid_id": contract["buyerBidId"],
        "status": contract["status"],
        "created_at": contract["createdAt"],
    }


def store_contract(
    conn: Connection, ctx: ProducerContext, buyer_contract: Doc, bid: Doc, cause: str
) -> Doc | None:
    """Create the contract unless it exists; return it when this call created it."""
    if docstore.get(conn, ctx.tables.contracts, buyer_contract["_id"]) is not None:
        return None
    now = isoformat(ctx.clock.now())
    contract = {
        "_id": buyer_contract["_id"],
        **{k: buyer_contract.get(k) for k in FIELDS},
        "bidId": bid["_id"],
        "buyerBidId": buyer_contract["bidId"],
        "orgId": bid["producerOrgId"],
        "status": ctx.contract_machine.initial,
        "buyerStatus": buyer_contract["status"],
        "createdAt": now,
        "updatedAt": now,
        "version": 1,
    }
    assert ctx.contract_machine.allows(cause, None, contract["status"]), cause
    docstore.insert(conn, ctx.tables.contracts, contract, **_columns(contract))
    notify(
        conn,
        ctx.tables.notifications,
        ctx.clock.now(),
        bid["producerOrgId"],
        "contract_created",
        "Contract created",
        f"Contract {contract['contractNumber']} created for your bid on lot {contract['lotId']}",
        lot_id=contract["lotId"],
        bid_id=bid["_id"],
        contract_id=contract["_id"],
    )
    return contract


def _own(conn: Connection, ctx: ProducerContext, req: OperationRequest) -> Doc:
    contracts = ctx.tables.contracts
    contract = docstore.require(
        conn,
        contracts,
        req.path_params["contractId"],
        contracts.c.org_id == req.principal.org_id,
        what="contract",
    )
    return contract


def get_contract(ctx: ProducerContext, req: OperationRequest) -> Reply:
    with ctx.db.read() as conn:
        return Reply(200, {"contract": _own(conn, ctx, req)})


def list_contracts(ctx: ProducerContext, req: OperationRequest) -> Reply:
    contracts = ctx.tables.contracts
    status = docstore.equal_to(contracts, req.query, {"status": "status"})
    conditions = [contracts.c.org_id == req.principal.org_id, *status]
    with ctx.db.read() as conn:
        return docstore.page_reply(conn, contracts, "contracts", conditions, req.query)


def update_contract(ctx: ProducerContext, req: OperationRequest) -> Reply:
    target = req.body["status"]
    with ctx.db.write() as conn:
        contract = _own(conn, ctx, req)
        ctx.contract_machine.require(
            "updateProducerContract", contract["status"], target, entity_id=contract["_id"]
        )
        moved = docstore.changed(contract, ctx.clock.now(), status=target)
        docstore.update(conn, ctx.tables.contracts, moved, contract["version"], **_columns(moved))
    return Reply(200, {"contract": moved})
