"""The two-party workflow as a Hypothesis rule-based state machine.

Rules are every action of either party (through their operator APIs, by operationId) and every
delivery fault between them; invariants (:mod:`lotflow.explore.checks`) are checked after every
step against what both parties show. Rules that need a control the :class:`Pair` does not offer
never run, and the :class:`Outcome` says which ran. Each run's steps are recorded, so the
shrunk counterexample Hypothesis replays last is the step list a scenario is printed from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from lotflow.engine.tap import Delivery
from lotflow.explore import checks
from lotflow.explore.checks import Violation
from lotflow.explore.network import Fault
from lotflow.explore.pair import Pair
from lotflow.explore.reading import read_snapshot
from lotflow.explore.steps import Sent, Step, Variables
from lotflow.workflow import Workflow, load_workflow

__all__ = ["ModelViolationError", "Outcome", "build_model"]

INDEX = st.integers(0, 5)
PASSES = [300, 30, 3600, 86400]  # seconds of time passing (shrinks towards 300)
EXPIRIES = [None, 60, 900]  # a bid's expiresAt, seconds from now
COUNTER_EXPIRIES = [60, 900, None]  # a counter-offer's: mostly expiring, the timer's interleavings
FAULTS = list(Fault)
MAX_LOTS, MAX_BIDS = 3, 6  # few entities, many interleavings on each


class ModelViolationError(AssertionError):
    """An invariant broke; the message lists the violations."""


@dataclass
class Outcome:
    """What a whole exploration did: rules run, steps of the last run, violations found."""

    rules_run: Counter[str] = field(default_factory=Counter)
    runs: int = 0
    steps: list[Step] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    aliases: tuple[str, ...] = ()
    first: tuple[list[Violation], list[Step]] | None = None  # the first run that broke one


@dataclass
class _Bid:
    var: int  # pbid_<var>, bid_<var>
    alias: str
    lot: int


def build_model(make_pair: Callable[[], Pair], outcome: Outcome) -> type[RuleBasedStateMachine]:
    """A state machine class whose runs each start on a fresh pair from ``make_pair``."""

    class TwoPartyModel(_Model):
        def __init__(self) -> None:
            super().__init__(make_pair(), outcome)

    return TwoPartyModel


def _controls(*needed: str) -> Callable[[Any], bool]:
    return lambda self: all(c in self.pair.controls for c in needed)


class _Model(RuleBasedStateMachine):
    def __init__(self, pair: Pair, outcome: Outcome) -> None:
        super().__init__()
        self.pair, self.outcome = pair, outcome
        self.workflow: Workflow = load_workflow()
        self.vars = Variables(pair.clock.now)
        self.lots: list[int] = []
        self.bids: list[_Bid] = []
        self.steps: list[Step] = []
        self.before = checks.Snapshot()
        self.failed_before = self._count("failed")  # a running buyer may have given up before
        self.log_start = self._mark()  # running parties are shared: this run's deliveries only
        self.fault_mark = self.log_start  # where the network's current fault began
        outcome.runs += 1
        outcome.steps = self.steps
        outcome.violations = []
        outcome.aliases = pair.aliases

    def teardown(self) -> None:
        """Every story ends settled: what it left owed is delivered and the parties must agree.
        A story that broke an invariant is settled too, without judging it, so that its
        printed scenario ends with the checks a replay fails on."""
        try:
            if not self.outcome.violations:
                self.settle(Fault.NONE)
            else:
                with suppress(httpx.HTTPError, ValueError, KeyError):
                    self._settled()
        finally:
            self.pair.close()

    # ---------------------------------------------------------------- calling
    def _call(self, title: str, actor: str, operation: str, **parts: Any) -> httpx.Response:
        self.outcome.rules_run[operation] += 1
        step = Step("call", title, actor, operation, parts.get("path") or {}, parts.get("body"))
        self.steps.append(step)
        filled = {k: self.vars.fill(v) for k, v in parts.items() if v is not None}
        if actor == "buyer":
            response = self.pair.buyer(operation, **filled)
        else:
            response = self.pair.producer(actor.split(":")[1], operation, **filled)
        step.status = response.status_code
        if response.status_code >= 500:
            self._fail([Violation("no 5xx", operation, f"{response.status_code} {response.text}")])
        return response

    def _save(self, step_response: httpx.Response, **pointers: str) -> None:
        body = step_response.json()
        for name, pointer in pointers.items():
            value: Any = body
            for part in pointer.strip("/").split("/"):
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, str):
                self.vars.values[name] = value
                self.steps[-1].save[name] = pointer

    def _control(self, name: str, title: str) -> None:
        self.outcome.rules_run[name] += 1
        self.steps.append(Step("control", title, call=name))

    # ---------------------------------------------------------------- buyer
    @initialize(amount=st.sampled_from([1000, 5000]), who=INDEX)
    def open_lot_with_a_bid(self, amount: int, who: int) -> None:
        """Every run starts where the interleavings are: a published lot with a bid on it
        (whether the producer has heard of the lot yet is up to the network)."""
        self.create_lot(amount, publish=True)
        self.submit_bid(0, who, None)

    @precondition(lambda self: len(self.lots) < MAX_LOTS)
    @rule(amount=st.sampled_from([1000, 5000]), publish=st.booleans())
    def create_lot(self, amount: int, publish: bool) -> None:
        n = len(self.lots) + 1
        body = {
            "title": f"Model lot {n}",
            "type": "HEFA-SPK",
            "volume": {"amount": amount, "unit": "gallons"},
            "pricing": {"price": amount * 6.5, "currency": "USD", "pricePerUnit": 6.5},
        }
        response = self._call(f"The buyer drafts lot {n}", "buyer", "createLot", body=body)
        if response.status_code == 201:
            self._save(response, **{f"lot_{n}": "/lot/_id"})
            self.lots.append(n)
            if publish:
                self.publish_lot(len(self.lots) - 1)

    @precondition(lambda self: self.lots)
    @rule(i=INDEX, per_unit=st.sampled_from([6.4, 6.6]))
    def update_lot(self, i: int, per_unit: float) -> None:
        n = self.lots[i % len(self.lots)]
        body = {"pricing": {"price": per_unit * 1000, "currency": "USD", "pricePerUnit": per_unit}}
        self._call(
            f"The buyer reprices lot {n} at {per_unit}/gal",
            "buyer",
            "updateLot",
            path={"lotId": f"${{lot_{n}}}"},
            body=body,
        )

    @precondition(lambda self: self.lots)
    @rule(i=INDEX)
    def publish_lot(self, i: int) -> None:
        n = self.lots[i % len(self.lots)]
        path = {"lotId": f"${{lot_{n}}}"}
        self._call(f"The buyer publishes lot {n}", "buyer", "publishLot", path=path)

    @precondition(lambda self: self.lots)
    @rule(i=INDEX)
    def withdraw_lot(self, i: int) -> None:
        n = self.lots[i % len(self.lots)]
        path = {"lotId": f"${{lot_{n}}}"}
        self._call(f"The buyer withdraws lot {n}", "buyer", "deleteLot", path=path)

    def _buyer_bid(self, i: int) -> _Bid | None:
        known = [b for b in self.bids if f"bid_{b.var}" in self.vars.values]
        return known[i % len(known)] if known else None

    @precondition(lambda self: self.bids)
    @rule(i=INDEX, verdict=st.sampled_from(["accept", "accept-later", "reject"]))
    def decide_bid(self, i: int, verdict: str) -> None:
        """Accept with its contract, accept and write the contract later, or reject."""
        if verdict == "reject":
            self.reject_bid(i)
        else:
            self.accept_bid(i, contract=verdict == "accept")

    def accept_bid(self, i: int, contract: bool) -> None:
        if bid := self._buyer_bid(i):
            body = {"status": "accepted", "createContract": contract}
            how = "with its contract" if contract else "without a contract yet"
            title = f"The buyer accepts bid {bid.var} {how}"
            self._call(title, "buyer", "decideBid", path=_bid_path(bid), body=body)

    def reject_bid(self, i: int) -> None:
        if bid := self._buyer_bid(i):
            body = {"status": "rejected", "reason": "Above our ceiling."}
            title = f"The buyer rejects bid {bid.var}"
            self._call(title, "buyer", "decideBid", path=_bid_path(bid), body=body)

    @precondition(lambda self: self.bids)
    @rule(i=INDEX, expires=st.sampled_from(COUNTER_EXPIRIES))
    def counter_bid(self, i: int, expires: int | None) -> None:
        if bid := self._buyer_bid(i):
            body: dict[str, Any] = {
                "volume": {"amount": 100, "unit": "gallons"},
                "pricePerUnit": 6.6,
            }
            if expires:
                body["expiresAt"] = f"${{now+{expires}s}}"
            title = f"The buyer counters bid {bid.var} at 6.60/gal" + _expiring(expires)
            self._call(title, "buyer", "counterBid", path=_bid_path(bid), body=body)

    @precondition(lambda self: self.bids)
    @rule(i=INDEX)
    def create_contract(self, i: int) -> None:
        if bid := self._buyer_bid(i):
            title = f"The buyer writes the contract of bid {bid.var}"
            self._call(title, "buyer", "createContract", body={"bidId": f"${{bid_{bid.var}}}"})

    # ---------------------------------------------------------------- producers
    @rule(who=INDEX)
    def sync_marketplace(self, who: int) -> None:
        alias = self.pair.aliases[who % len(self.pair.aliases)]
        title = f"Producer {alias} syncs its marketplace with the buyer"
        self._call(title, f"producer:{alias}", "syncMarketplace")

    @precondition(lambda self: self.lots and len(self.bids) < MAX_BIDS)
    @rule(i=INDEX, who=INDEX, expires=st.sampled_from(EXPIRIES))
    def submit_bid(self, i: int, who: int, expires: int | None) -> None:
        n, alias = self.lots[i % len(self.lots)], self.pair.aliases[who % len(self.pair.aliases)]
        var = len(self.bids) + 1
        body: dict[str, Any] = {
            "lotId": f"${{lot_{n}}}",
            "volume": {"amount": 100, "unit": "gallons"},
            "pricing": {"price": 630, "currency": "USD", "pricePerUnit": 6.3},
        }
        if expires:
            body["expiresAt"] = f"${{now+{expires}s}}"
        title = f"Producer {alias} bids 6.30/gal on lot {n} (bid {var})" + _expiring(expires)
        response = self._call(title, f"producer:{alias}", "submitProducerBid", body=body)
        if response.status_code == 201:
            self._save(response, **{f"pbid_{var}": "/bid/_id", f"bid_{var}": "/bid/buyerBidId"})
            self.bids.append(_Bid(var, alias, n))

    @precondition(lambda self: self.bids)
    @rule(i=INDEX)
    def resubmit_bid(self, i: int) -> None:
        bid = self.bids[i % len(self.bids)]
        path = {"bidId": f"${{pbid_{bid.var}}}"}
        title = f"Producer {bid.alias} sends bid {bid.var} again"
        self._call(title, f"producer:{bid.alias}", "resubmitProducerBid", path=path)

    @precondition(lambda self: self.bids)
    @rule(i=INDEX, accept=st.booleans())
    def answer_counter(self, i: int, accept: bool) -> None:
        bid = self.bids[i % len(self.bids)]
        verb = "accepts" if accept else "declines"
        title = f"Producer {bid.alias} {verb} the counter-offer on bid {bid.var}"
        path = {"bidId": f"${{pbid_{bid.var}}}"}
        self._call(
            title,
            f"producer:{bid.alias}",
            "respondToCounterOffer",
            path=path,
            body={"accept": accept},
        )

    # ---------------------------------------------------------------- the world between them
    @precondition(_controls("clock"))
    @rule(seconds=st.sampled_from(PASSES))
    def pass_time(self, seconds: int) -> None:
        self._control("time", f"{seconds} seconds pass")
        self.pair.advance(seconds)

    @precondition(_controls("network"))
    @rule(fault=st.sampled_from(FAULTS))
    def dispatch(self, fault: Fault) -> None:
        name, title = f"deliver:{fault.value}", f"The buyer's sender makes a pass ({fault.value})"
        if self.pair.fault_from_now:
            title = f"The network between the portals turns to {fault.value}"
        self.outcome.rules_run[name] += 1
        step = Step("network", title, call=name, fault=fault.value)
        step.from_now = self.pair.fault_from_now
        self.steps.append(step)
        mark = self.fault_mark if step.from_now else self._mark()
        self.pair.dispatch(fault)  # a running buyer's: once what it owes has met the last fault
        step.sent = self._sent(mark)  # what met this pass's fault (a running buyer's: the last)
        self.fault_mark = self._mark()

    @precondition(_controls("network"))
    @rule(k=INDEX)
    def release_held(self, k: int) -> None:
        self.outcome.rules_run["redeliver"] += 1
        step = Step("network", "A held-back copy arrives late", call="redeliver")
        self.steps.append(step)
        mark = self._mark()
        event = self.pair.release(k)
        step.sent = self._sent(mark)
        step.title = f"A held-back copy arrives late ({event or 'none held'})"

    def _mark(self) -> int:
        return self.pair.log.mark() if self.pair.log is not None else 0

    def _sent(self, mark: int) -> list[Sent]:
        """What the network carried since ``mark``, named by the model's variables."""
        log = self.pair.log.since(self.log_start) if self.pair.log is not None else []
        by_id = {v: k for k, v in self.vars.values.items()}
        return [
            sent
            for index in range(max(mark - self.log_start, 0), len(log))
            if (sent := _named(log[index], log[:index], by_id)) is not None
        ]

    @precondition(_controls("outage"))
    @rule(up=st.booleans())
    def receiver(self, up: bool) -> None:
        self.outcome.rules_run["outage"] += 1
        title = "The producer portal comes back" if up else "The producer portal goes offline"
        self.steps.append(Step("outage", title, down=not up))
        self.pair.set_receiver(up)

    @precondition(_controls("restart"))
    @rule(now=st.integers(0, 3))
    def restart_buyer(self, now: int) -> None:
        if now:  # drawn one time in four: a restart per step would crowd out the rest
            return
        self._control("restart", "The buyer portal is killed and restarted on its database")
        self.pair.restart_buyer()

    @rule(first=st.sampled_from(FAULTS))
    def settle(self, first: Fault) -> None:
        """One pass under ``first`` (when the network is in the model's hands), then deliver
        everything owed: the parties must agree."""
        if first is not Fault.NONE and "network" in self.pair.controls:
            self.dispatch(first)
        self.outcome.rules_run["settle"] += 1
        snapshot = self._settled()
        self._fail(checks.agreement(self.workflow, snapshot) + checks.undelivered(self._owed()))

    def _settled(self) -> checks.Snapshot:
        """Deliver everything owed and record the step, with what a printed scenario checks."""
        if self.pair.fault_from_now and "network" in self.pair.controls:
            self.dispatch(Fault.NONE)  # what the last fault met, then the network restored
        step = Step("settle", "Every webhook owed is delivered; both portals agree")
        self.steps.append(step)
        self.pair.settle()
        snapshot = read_snapshot(self.pair, self.vars, self.lots, [b.var for b in self.bids])
        _agreements_of(step, snapshot, self.vars, self.bids)
        step.repeats = [sent for sent in self._sent(self.log_start) if sent.repeat]
        return snapshot

    def _owed(self) -> dict[str, int]:
        return {
            "pending": self._count("pending"),
            "failed": self._count("failed") - self.failed_before,
        }

    def _count(self, status: str) -> int:
        answer = self.pair.buyer("listWebhookDeliveries", query={"status": status, "limit": 1})
        return int(answer.json()["count"])

    # ---------------------------------------------------------------- invariants
    @invariant()
    def holds(self) -> None:
        snapshot = read_snapshot(self.pair, self.vars, self.lots, [b.var for b in self.bids])
        found = checks.within(self.workflow, snapshot)
        found += checks.between(self.workflow, self.before, snapshot)
        seen = self.pair.log.since(self.log_start) if self.pair.log else []
        found += checks.applied_twice(seen) + checks.repeats_unacknowledged(seen)
        self.before = snapshot
        self._fail(found)

    def _fail(self, found: list[Violation]) -> None:
        if found:
            self.outcome.violations = found
            if self.outcome.first is None:  # kept: running parties may not break it again
                self.outcome.first = (found, self.steps)
            raise ModelViolationError("; ".join(str(v) for v in found))


def _agreements_of(
    step: Step, snapshot: checks.Snapshot, variables: Variables, bids: list[_Bid]
) -> None:
    """What a printed settle step checks: each published lot and each bid the buyer has."""
    by_id = {v: k for k, v in variables.values.items()}
    step.agree = [
        ("lot", by_id[lot.ident])
        for lot in snapshot.of("buyer.lot")
        if lot.links.get("publishedAt")
    ]
    step.agree += [("bid", by_id[bid.ident]) for bid in snapshot.of("buyer.bid")]
    step.pbids = {f"bid_{b.var}": f"pbid_{b.var}" for b in bids}
    step.aliases = {f"pbid_{b.var}": b.alias for b in bids}


def _named(delivery: Delivery, earlier: list[Delivery], by_id: dict[str, str]) -> Sent | None:
    """``delivery`` as a :class:`Sent`, when its entity is one of the model's variables."""
    payload = delivery.payload if isinstance(delivery.payload, dict) else {}
    entity = "bid" if isinstance(payload.get("bid"), dict) else "lot"
    about = payload.get(entity)
    var = by_id.get(about.get("_id", "")) if isinstance(about, dict) else None
    if var is None or not isinstance(about, dict):
        return None
    ident = delivery.webhook_id
    same = [d for d in (*earlier, delivery) if d.webhook_id == ident]
    return Sent(
        event=delivery.event,
        webhook_id=ident,
        entity=entity,
        var=var,
        version=int(about.get("version") or 0),
        delivered=delivery.delivered,
        first=len(same) == 1,
        repeat=delivery.delivered and any(d.delivered for d in same[:-1]),
    )


def _bid_path(bid: _Bid) -> dict[str, str]:
    return {"bidId": f"${{bid_{bid.var}}}"}


def _expiring(seconds: int | None) -> str:
    return f", expiring in {seconds}s" if seconds else ""
