"""Bringing the buyer's entities into a state, so that a check can act on them.

Two ways, as the team chooses:

- the spec's **operator API** (the default, with operator credentials): each state of the
  buyer's lot, bid, counter-offer and contract machines is reached by a short recipe of
  operations (create and publish a lot, submit a bid, counter it, accept it, move the contract
  along its lifecycle: that last path is read from the contract machine);
- a **state-setup URL** (Pact's provider-state convention): ``POST {state, params}`` with
  ``state`` = ``"<machine> <state>"`` (``"buyer.bid countered"``), answered with the ids of what
  it set up: ``{"lotId", "bidId"?, "counterOfferId"?, "contractId"?}``.

States only a timer reaches (an expired bid or counter-offer) cannot be set up: a
:class:`UnreachableError` says so, and the subjects that need them are not run.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from lotflow.verify.checks.support import SetupFailedError, bid_for, example_body, external_id
from lotflow.verify.session import Answer, VerifySession

__all__ = ["Entities", "StateBuilder", "UnreachableError", "published_lot"]

TIMER_ONLY = {("buyer.bid", "expired"), ("buyer.counter_offer", "expired")}


class UnreachableError(Exception):
    """A state verify cannot set up (with the reason and what would make it possible)."""

    def __init__(self, reason: str, remedy: str) -> None:
        super().__init__(reason)
        self.reason, self.remedy = reason, remedy


@dataclass(frozen=True)
class Entities:
    """The ids of what a setup made (the lot always; the rest as the state needs)."""

    lot_id: str
    bid_id: str | None = None
    counter_id: str | None = None
    contract_id: str | None = None
    lot: dict[str, Any] | None = None

    def id_of(self, entity: str) -> str | None:
        return {
            "lot": self.lot_id,
            "bid": self.bid_id,
            "counter_offer": self.counter_id,
            "contract": self.contract_id,
        }.get(entity)


class StateBuilder:
    """Sets up entities in a state through the operator API or the state-setup URL."""

    def __init__(self, session: VerifySession) -> None:
        self.session = session

    async def reach(self, machine: str, state: str) -> Entities:
        """New entities with the ``machine``'s entity in ``state``."""
        if (machine, state) in TIMER_ONLY and not self.session.state_url:
            raise UnreachableError(
                f"{machine} {state} is reached only when time passes",
                f'give --state-url that can set up "{machine} {state}"',
            )
        if self.session.has_operator and (machine, state) not in TIMER_ONLY:
            return await _RECIPES[machine](self, state)
        if self.session.state_url:
            return await self._from_state_url(machine, state)
        raise UnreachableError(
            "no way to set up the buyer's entities",
            "give operator credentials (--buyer-header/--buyer-cookie) or --state-url",
        )

    # ------------------------------------------------------------------ state URL

    async def _from_state_url(self, machine: str, state: str) -> Entities:
        url = str(self.session.state_url)
        body = json.dumps({"state": f"{machine} {state}", "params": {}}).encode()
        answer = await self.session.send("POST", url, {"Content-Type": "application/json"}, body)
        ids = answer.json()
        if answer.status >= 300 or not isinstance(ids, dict) or "lotId" not in ids:
            raise SetupFailedError(
                f"POST {url} {{state: {machine} {state}}}",
                answer,
                "expected 2xx with {lotId, bidId?, counterOfferId?, contractId?}",
            )
        return Entities(
            ids["lotId"], ids.get("bidId"), ids.get("counterOfferId"), ids.get("contractId")
        )

    # ------------------------------------------------------------------ operator recipes

    async def _ok(self, step: str, answer: Answer, *parts: str) -> dict[str, Any]:
        """The body of a step that succeeded, with an object holding an ``_id`` under each of
        ``parts``; a ``SetupFailedError`` naming the step otherwise."""
        body = answer.json()
        if answer.status >= 300 or not isinstance(body, dict):
            raise SetupFailedError(step, answer)
        for part in parts:
            entity = body.get(part)
            if not isinstance(entity, dict) or not isinstance(entity.get("_id"), str):
                raise SetupFailedError(step, answer, f"no {part}._id in the answer")
        return body

    async def draft_lot(self) -> Entities:
        body = example_body(self.session, "createLot")
        created = await self._ok(
            "createLot", await self.session.call("createLot", body=body), "lot"
        )
        return Entities(created["lot"]["_id"], lot=created["lot"])

    async def published_lot(self) -> Entities:
        lot_id = (await self.draft_lot()).lot_id
        published = await self._ok(
            "publishLot", await self.session.call("publishLot", path={"lotId": lot_id}), "lot"
        )
        return Entities(lot_id, lot=published["lot"])

    async def lot(self, state: str) -> Entities:
        if state in ("draft", "cancelled"):
            found = await self.draft_lot()
            if state == "cancelled":
                await self._ok(
                    "deleteLot", await self.session.call("deleteLot", path={"lotId": found.lot_id})
                )
            return found
        found = await self.published_lot()
        if state in ("sold", "reserved"):
            bid = await self.pending_bid(found)
            return await self.decide(bid, "accepted", create_contract=state == "sold")
        return found

    async def pending_bid(self, lot: Entities | None = None) -> Entities:
        lot = lot or await self.published_lot()
        body = bid_for(self.session, lot.lot or {}, external_id("setup"))
        made = await self._ok("submitBid", await self.session.call("submitBid", body=body), "bid")
        return replace(lot, bid_id=made["bid"]["_id"])

    async def decide(self, bid: Entities, status: str, *, create_contract: bool = True) -> Entities:
        body: dict[str, Any] = {"status": status}
        if not create_contract:
            body["createContract"] = False
        decided = await self._ok(
            f"decideBid {status}",
            await self.session.call("decideBid", path={"bidId": str(bid.bid_id)}, body=body),
        )
        contract = decided.get("contract") or {}
        return replace(bid, contract_id=contract.get("_id"))

    async def countered(self) -> Entities:
        bid = await self.pending_bid()
        body = example_body(self.session, "counterBid")
        body["volume"]["unit"] = (bid.lot or {})["volume"]["unit"]
        made = await self._ok(
            "counterBid",
            await self.session.call("counterBid", path={"bidId": str(bid.bid_id)}, body=body),
        )
        counter = made.get("counterOffer") or {}
        return replace(bid, counter_id=counter.get("_id"))

    async def answer_counter(self, bid: Entities, accept: bool) -> Entities:
        body = {"accept": accept, "counterOfferId": bid.counter_id}
        answered = await self._ok(
            "acceptCounterOffer",
            await self.session.call(
                "acceptCounterOffer", path={"bidId": str(bid.bid_id)}, body=body
            ),
        )
        contract = answered.get("contract") or {}
        return replace(bid, contract_id=contract.get("_id"))

    async def bid(self, state: str) -> Entities:
        if state == "countered":
            return await self.countered()
        bid = await self.pending_bid()
        if state in ("accepted", "rejected"):
            return await self.decide(bid, state)
        if state == "withdrawn":
            await self._ok(
                "deleteLot", await self.session.call("deleteLot", path={"lotId": bid.lot_id})
            )
        return bid

    async def counter_offer(self, state: str) -> Entities:
        countered = await self.countered()
        if state in ("accepted", "declined"):
            return await self.answer_counter(countered, accept=state == "accepted")
        if state == "withdrawn":
            return await self.decide(countered, "rejected")
        return countered

    async def contract(self, state: str) -> Entities:
        awarded = await self.decide(await self.pending_bid(), "accepted")
        for step in self._contract_path(state):
            await self._ok(
                f"updateContractStatus {step}",
                await self.session.call(
                    "updateContractStatus",
                    path={"contractId": str(awarded.contract_id)},
                    body={"status": step},
                ),
            )
        return awarded

    def _contract_path(self, target: str) -> list[str]:
        """The states from a new contract to ``target``, read from the contract machine."""
        machine = self.session.workflow.machine("buyer.contract")
        paths: dict[str, list[str]] = {machine.initial: []}
        queue = deque([machine.initial])
        while queue:
            state = queue.popleft()
            for t in machine.transitions:
                if state in t.source and t.target not in paths:
                    paths[t.target] = [*paths[state], t.target]
                    queue.append(t.target)
        return paths[target]


async def _lot(builder: StateBuilder, state: str) -> Entities:
    return await builder.lot(state)


async def _bid(builder: StateBuilder, state: str) -> Entities:
    return await builder.bid(state)


async def _counter(builder: StateBuilder, state: str) -> Entities:
    return await builder.counter_offer(state)


async def _contract(builder: StateBuilder, state: str) -> Entities:
    return await builder.contract(state)


_RECIPES = {
    "buyer.lot": _lot,
    "buyer.bid": _bid,
    "buyer.counter_offer": _counter,
    "buyer.contract": _contract,
}


async def published_lot(session: VerifySession) -> dict[str, Any] | None:
    """A published lot to bid on: set up when possible, else the first one listed."""
    if session.can_set_up:
        try:
            found = await StateBuilder(session).reach("buyer.lot", "published")
        except (UnreachableError, SetupFailedError):
            return None
        if found.lot is not None:
            return found.lot
        answer = await session.call("getExternalLot", path={"lotId": found.lot_id})
        lot = answer.member("lot")
        return lot if isinstance(lot, dict) else None
    answer = await session.call("listExternalLots")
    lots = answer.member("lots") if answer.status == 200 else None
    return dict(lots[0]) if isinstance(lots, list) and lots and isinstance(lots[0], dict) else None
