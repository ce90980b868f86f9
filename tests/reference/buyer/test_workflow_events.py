"""For every cause that moves the buyer's entities (each operation of buyer.yaml that the workflow
names, and the expiry timers), the reference buyer sends exactly the events spec/workflow.yaml
says its moves emit, about the entities moved, and no other.

The referee knows no event name: it observes which entities changed (created, or a new version,
and in which states) and asks the workflow what those moves emit (``Workflow.expected_events``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from lotflow.reference.buyer import expiry
from lotflow.reference.buyer.kinds import LOT
from lotflow.reference.buyer.tables import bids, contracts, counter_offers, lots, outbox
from sqlalchemy import Table, select

from lotflow.workflow import Move, load_workflow
from tests.reference.buyer.portal import Portal

pytestmark = pytest.mark.anyio

WORKFLOW = load_workflow()
ENTITIES: dict[str, Table] = {
    "lot": lots,
    "bid": bids,
    "counter_offer": counter_offers,
    "contract": contracts,
}
SUBJECT = {"lot": "lot", "bid": "bid", "contract": "contract"}  # event family → its entity
Act = Callable[[Portal, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Case:
    """A situation set up by ``arrange`` (which returns what ``act`` needs), then one cause."""

    cause: str
    arrange: Act
    act: Act
    name: str


def snapshot(portal: Portal) -> dict[tuple[str, str], tuple[str, int]]:
    """Every entity's (status, version), by (entity, id)."""
    found = {}
    with portal.ctx.db.read() as conn:
        for entity, table in ENTITIES.items():
            for row in conn.execute(select(table.c.id, table.c.status, table.c.version)):
                found[(entity, row.id)] = (row.status, row.version)
    return found


def moves_between(before: dict[Any, Any], after: dict[Any, Any]) -> list[Move]:
    moves = []
    for (entity, ident), (status, version) in after.items():
        earlier = before.get((entity, ident))
        if earlier is None:
            moves.append(Move(entity, ident, None, status))
        elif earlier[1] != version:
            moves.append(Move(entity, ident, earlier[0], status))
    return moves


def sent_since(portal: Portal, seq: int) -> list[tuple[str, str]]:
    """(event, id of the entity it reports) for every event the outbox gained after ``seq``."""
    with portal.ctx.db.read() as conn:
        rows = conn.execute(select(outbox.c.event, outbox.c.payload).where(outbox.c.seq > seq))
        found = []
        for event, payload in rows:
            family = event.split(".", 1)[0]
            found.append((event, json.loads(payload)[SUBJECT[family]]["_id"]))
    return found


def last_seq(portal: Portal) -> int:
    with portal.ctx.db.read() as conn:
        return int(conn.execute(select(outbox.c.seq).order_by(outbox.c.seq.desc())).scalar() or 0)


# ---------------------------------------------------------------------------------- situations


async def nothing(portal: Portal, state: dict[str, Any]) -> None:
    return None


async def draft(portal: Portal, state: dict[str, Any]) -> None:
    state["lot"] = await portal.draft_lot()


async def published(portal: Portal, state: dict[str, Any]) -> None:
    state["lot"] = await portal.published_lot()


async def three_bids(portal: Portal, state: dict[str, Any]) -> None:
    """A published lot with a pending bid, a second pending bid, and a countered one."""
    await published(portal, state)
    lot = state["lot"]
    state["bid"] = await portal.bid(lot, "ext-1")
    state["other"] = await portal.bid(lot, "ext-2")
    state["countered"] = await portal.bid(lot, "ext-3")
    await counter(portal, {"bid": state["countered"]})


async def countered_with_others(portal: Portal, state: dict[str, Any]) -> None:
    await three_bids(portal, state)
    state["bid"] = state["countered"]


async def reserved(portal: Portal, state: dict[str, Any]) -> None:
    await three_bids(portal, state)
    decided = await portal.op(
        "PUT",
        f"/api/bids/{state['bid']['_id']}",
        json={"status": "accepted", "createContract": False},
    )
    assert decided.status_code == 200, decided.text


async def contracted(portal: Portal, state: dict[str, Any]) -> None:
    await three_bids(portal, state)
    await accept(portal, state)
    state["contract"] = (await portal.bid_detail(state["bid"]["_id"]))["contract"]


async def expiring(portal: Portal, state: dict[str, Any]) -> None:
    """A pending bid and a countered bid, both expiring in a minute."""
    await published(portal, state)
    soon = (portal.clock.now() + timedelta(minutes=1)).isoformat()
    await portal.bid(state["lot"], "ext-1", expiresAt=soon)
    countered = await portal.bid(state["lot"], "ext-2")
    answer = {
        "volume": {"amount": 100000, "unit": "gallons"},
        "pricePerUnit": 6.4,
        "expiresAt": soon,
    }
    made = await portal.op("POST", f"/api/bids/{countered['_id']}/counter", json=answer)
    assert made.status_code == 201, made.text


# ---------------------------------------------------------------------------------- causes


async def ok(response: Any) -> None:
    assert response.status_code in (200, 201), response.text


async def create_lot(portal: Portal, state: dict[str, Any]) -> None:
    await portal.draft_lot()


async def update_lot(portal: Portal, state: dict[str, Any]) -> None:
    await ok(await portal.op("PATCH", f"/api/lots/{state['lot']['_id']}", json={"title": "New"}))


async def publish_lot(portal: Portal, state: dict[str, Any]) -> None:
    await ok(await portal.op("POST", f"/api/lots/{state['lot']['_id']}/publish"))


async def delete_lot(portal: Portal, state: dict[str, Any]) -> None:
    await ok(await portal.op("DELETE", f"/api/lots/{state['lot']['_id']}"))


async def submit_bid(portal: Portal, state: dict[str, Any]) -> None:
    await portal.bid(state["lot"], "ext-9")


async def accept(portal: Portal, state: dict[str, Any]) -> None:
    await ok(
        await portal.op("PUT", f"/api/bids/{state['bid']['_id']}", json={"status": "accepted"})
    )


async def accept_without_contract(portal: Portal, state: dict[str, Any]) -> None:
    body = {"status": "accepted", "createContract": False}
    await ok(await portal.op("PUT", f"/api/bids/{state['bid']['_id']}", json=body))


async def reject(portal: Portal, state: dict[str, Any]) -> None:
    body = {"status": "rejected", "reason": "price"}
    await ok(await portal.op("PUT", f"/api/bids/{state['bid']['_id']}", json=body))


async def counter(portal: Portal, state: dict[str, Any]) -> None:
    answer = {"volume": {"amount": 100000, "unit": "gallons"}, "pricePerUnit": 6.4}
    await ok(await portal.op("POST", f"/api/bids/{state['bid']['_id']}/counter", json=answer))


def answer_counter(accept: bool) -> Act:
    async def answer(portal: Portal, state: dict[str, Any]) -> None:
        url = f"/api/bids/{state['bid']['_id']}/accept-counter"
        await ok(await portal.producer("POST", url, json={"accept": accept}))

    return answer


async def create_contract(portal: Portal, state: dict[str, Any]) -> None:
    await ok(await portal.op("POST", "/api/contracts", json={"bidId": state["bid"]["_id"]}))


async def advance_contract(portal: Portal, state: dict[str, Any]) -> None:
    url = f"/api/contracts/{state['contract']['_id']}"
    await ok(await portal.op("PATCH", url, json={"status": "pending_signature"}))


async def sweep(portal: Portal, state: dict[str, Any]) -> None:
    portal.clock.advance(timedelta(minutes=2))
    assert expiry.sweep(portal.ctx) == 2  # a bid and a counter-offer (whose bid goes back)


def cases() -> list[Case]:
    accept_counter, decline_counter = answer_counter(True), answer_counter(False)
    return [
        Case("createLot", nothing, create_lot, "a new lot"),
        Case("updateLot", draft, update_lot, "a draft changed"),
        Case("updateLot", published, update_lot, "a published lot changed"),
        Case("publishLot", draft, publish_lot, "published"),
        Case("deleteLot", draft, delete_lot, "a draft withdrawn"),
        Case("deleteLot", three_bids, delete_lot, "a lot withdrawn with open bids"),
        Case("submitBid", published, submit_bid, "a bid"),
        Case("decideBid", three_bids, accept, "an award with other open bids"),
        Case("decideBid", three_bids, accept_without_contract, "an award without a contract"),
        Case("decideBid", three_bids, reject, "a pending bid rejected"),
        Case("decideBid", countered_with_others, reject, "a countered bid rejected"),
        Case("counterBid", three_bids, counter, "a counter-offer"),
        Case("acceptCounterOffer", countered_with_others, accept_counter, "counter accepted"),
        Case("acceptCounterOffer", countered_with_others, decline_counter, "counter declined"),
        Case("createContract", reserved, create_contract, "the contract of a reserved lot"),
        Case("updateContractStatus", contracted, advance_contract, "a contract step"),
        Case("timer", expiring, sweep, "a bid and a counter-offer expire"),
    ]


async def test_every_move_sends_exactly_the_events_the_workflow_names(portal: Portal) -> None:
    checked: set[str] = set()
    for case in cases():
        state: dict[str, Any] = {}
        await case.arrange(portal, state)
        before, seq = snapshot(portal), last_seq(portal)
        await case.act(portal, state)
        moves = moves_between(before, snapshot(portal))
        assert moves, f"{case.name}: nothing moved"
        expected = WORKFLOW.expected_events("buyer", case.cause, moves)
        wanted = Counter((m.event, m.entity_id) for m in expected)
        assert Counter(sent_since(portal, seq)) == wanted, case.name
        checked.add(case.cause)
    causes = {
        t.cause.name if t.cause.kind == "operation" else "timer"
        for name, machine in WORKFLOW.machines.items()
        if machine.portal == "buyer"
        for t in machine.transitions
    }
    assert causes - checked == set(), "causes of the buyer's workflow no case exercises"


async def test_the_referee_sees_an_event_too_many(portal: Portal) -> None:
    """The check above can fail: an extra event in the outbox breaks the comparison."""
    state: dict[str, Any] = {}
    await draft(portal, state)
    before, seq = snapshot(portal), last_seq(portal)
    await update_lot(portal, state)
    with portal.ctx.transaction() as tx:  # a portal that also announces a draft's change
        lot = tx.current(LOT, state["lot"]["_id"])
        tx.enqueue("lot.updated", lot["orgId"], {"lot": lot, "organization": tx.organization(lot)})
    moves = moves_between(before, snapshot(portal))
    expected = WORKFLOW.expected_events("buyer", "updateLot", moves)
    assert expected == []  # a draft's change is no news for producers
    assert sent_since(portal, seq) == [("lot.updated", state["lot"]["_id"])]
