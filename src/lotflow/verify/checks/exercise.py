"""Making the buyer send webhooks and knowing which it owes: verify drives a short run of state
changes through the operator API and the producer-facing API (two lots: one published, updated,
bid on twice, countered and awarded; one published and withdrawn), reads every entity's state
before and after each change, and asks the workflow (``Workflow.expected_events``) which events
each observed move must send. The buyer's deliveries arrive at the run's
:class:`~lotflow.verify.listener.WebhookListener`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from lotflow.threads import in_thread
from lotflow.verify.checks.support import NEEDS_KEY, NEEDS_OPERATOR, example_body
from lotflow.verify.listener import Received, WebhookListener
from lotflow.verify.registry import Requirement
from lotflow.verify.results import Exchange
from lotflow.verify.session import VerifySession
from lotflow.verify.states import Entities, StateBuilder
from lotflow.workflow import Move

__all__ = ["NEEDS_LISTENER", "NEEDS_SIGNING_SECRET", "Exercised", "exercise", "listener_of"]

NEEDS_LISTENER = Requirement(
    "a webhook route",
    lambda s: s.webhooks is not None,
    "verify has no route for the buyer's webhooks",
    "give --webhook-listen HOST:PORT and point the buyer's webhook URL "
    "(PRODUCER_DASHBOARD_WEBHOOK_URL) at the address verify prints",
)
NEEDS_SIGNING_SECRET = Requirement(
    "webhook secret",
    lambda s: bool(s.webhook_secrets),
    "no webhook secret: verify cannot check the buyer's signatures",
    "give --webhook-secret (the buyer's PRODUCER_DASHBOARD_WEBHOOK_SECRET)",
)
WEBHOOK_NEEDS = (NEEDS_KEY, NEEDS_OPERATOR, NEEDS_LISTENER)
Key = tuple[str, str]  # (event, entity id)


def listener_of(session: VerifySession) -> WebhookListener:
    listener: WebhookListener = session.webhooks
    return listener


@dataclass
class Exercised:
    """What the run of changes owes (event, entity id) and what arrived about its entities."""

    expected: Counter[Key] = field(default_factory=Counter)
    ids: set[str] = field(default_factory=set)
    steps: list[str] = field(default_factory=list)
    attempts: list[Received] = field(default_factory=list)
    reads: dict[str, Exchange] = field(default_factory=dict)  # entity id → its last read

    def ours(self, received: Received) -> bool:
        """About this run's entities (an id anywhere in the body: a payload whose ids are not
        plain strings is still judged)."""
        text = received.body.decode("utf-8", "replace")
        return received.entity_id() in self.ids or any(i in text for i in self.ids)

    def deliveries(self) -> dict[str, Received]:
        """The first attempt of each distinct webhook-id about this run's entities."""
        first: dict[str, Received] = {}
        for attempt in self.attempts:
            first.setdefault(attempt.webhook_id, attempt)
        return first


class _Driver:
    """Runs the changes and records, for each, the events the workflow wants for its moves."""

    def __init__(self, session: VerifySession) -> None:
        self.session, self.builder, self.found = session, StateBuilder(session), Exercised()

    async def snapshot(self, lot_id: str) -> dict[tuple[str, str], str]:
        """The state of the lot, its bids and their contracts (operator reads; each read kept
        as the evidence of what the entity became)."""
        call, reads = self.session.call, self.found.reads
        read = await call("getLot", path={"lotId": lot_id})
        seen = {("lot", lot_id): str((read.member("lot") or {}).get("status"))}
        reads[lot_id] = read.exchange
        listed = await call("listLotBids", path={"lotId": lot_id})
        for bid in listed.member("bids") or []:
            seen[("bid", bid["_id"])] = str(bid["status"])
            reads[bid["_id"]] = listed.exchange
            if bid.get("contractId"):
                read = await call("getContract", path={"contractId": bid["contractId"]})
                seen[("contract", bid["contractId"])] = str(
                    (read.member("contract") or {}).get("status")
                )
                reads[bid["contractId"]] = read.exchange
        return seen

    async def step(self, cause: str, lot_id: str | None, act: Callable[[], Awaitable[Any]]) -> Any:
        before = await self.snapshot(lot_id) if lot_id else {}
        made = await act()
        lot_id = lot_id or made.lot_id
        after = await self.snapshot(lot_id)
        moves = [Move(e, i, before.get((e, i)), state) for (e, i), state in after.items()]
        for move in self.session.workflow.expected_events("buyer", cause, moves):
            self.found.expected[(move.event, move.entity_id)] += 1
        self.found.ids |= {i for _, i in after}
        self.found.steps.append(cause)
        return made


async def _changes(driver: _Driver) -> None:
    session, builder = driver.session, driver.builder
    lot: Entities = await driver.step("createLot", None, builder.draft_lot)
    path = {"lotId": lot.lot_id}
    published = await driver.step(
        "publishLot", lot.lot_id, lambda: session.call("publishLot", path=path)
    )
    version = (published.member("lot") or {}).get("version")
    update = {"title": "Updated by lotflow verify"} | ({"version": version} if version else {})
    await driver.step(
        "updateLot", lot.lot_id, lambda: session.call("updateLot", path=path, body=update)
    )
    current = (await session.call("getLot", path=path)).member("lot") or {}
    first = await driver.step(
        "submitBid", lot.lot_id, lambda: builder.pending_bid(Entities(lot.lot_id, lot=current))
    )
    second = await driver.step(
        "submitBid", lot.lot_id, lambda: builder.pending_bid(Entities(lot.lot_id, lot=current))
    )
    await driver.step("counterBid", lot.lot_id, lambda: _counter(session, second))
    await driver.step("decideBid", lot.lot_id, lambda: builder.decide(first, "accepted"))
    other = await driver.step("createLot", None, builder.draft_lot)
    where = {"lotId": other.lot_id}
    await driver.step("publishLot", other.lot_id, lambda: session.call("publishLot", path=where))
    await driver.step("deleteLot", other.lot_id, lambda: session.call("deleteLot", path=where))


async def _counter(session: VerifySession, bid: Entities) -> Any:
    body = example_body(session, "counterBid")
    body["volume"]["unit"] = (bid.lot or {})["volume"]["unit"]
    return await session.call("counterBid", path={"bidId": str(bid.bid_id)}, body=body)


async def exercise(session: VerifySession) -> Exercised:
    """Run the changes once per session (the webhook checks share them) and wait until every
    owed event has arrived (or ``delivery_deadline`` passed), then ``settle`` for extras."""
    listener = listener_of(session)
    if "exercised" in listener.cache:
        cached: Exercised = listener.cache["exercised"]
        return cached
    driver = _Driver(session)
    await _changes(driver)
    found = driver.found

    def arrived(received: list[Received]) -> Counter[Key]:
        first = {r.webhook_id: r for r in received if found.ours(r) and r.status < 300}
        return Counter((r.event, r.entity_id()) for r in first.values())

    def complete(received: list[Received]) -> bool:
        return not found.expected - arrived(received)

    def more(received: list[Received]) -> bool:
        return sum(arrived(received).values()) > sum(found.expected.values())

    budget = session.budget
    await in_thread(listener.wait, complete, budget.delivery_deadline)
    await in_thread(listener.wait, more, budget.settle)
    found.attempts = listener.received(found.ours)
    listener.cache["exercised"] = found
    return found
