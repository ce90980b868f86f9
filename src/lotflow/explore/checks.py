"""The model's invariants, as pure functions over what both parties show (snapshots) and what the
network saw; every state, machine and mapping comes from ``spec/workflow.yaml``.

After every step: each entity's status is a state of its machine, reachable from the status it
had before; versions never go back; at most one contract per lot and per bid on each side; no
webhook-id applied twice, and a webhook-id accepted before acknowledged as a duplicate (the
receiver's answer, ``WebhookAck``); no 5xx. Once deliveries are settled: the buyer owes no
event and every event it sent reached the producer; both parties agree through the workflow's
status mapping, and on each lot's version (the receiver keeps the buyer's highest version).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lotflow.engine.tap import Delivery
from lotflow.workflow import Workflow

ACK_APPLIED, ACK_DUPLICATE = "applied", "duplicate"
"""The fields of the receiver's answer (``WebhookAck`` in the spec; a test checks they are)."""

PARTIAL = frozenset({"buyer.counter_offer"})
"""Machines whose entities are read only while current (a bid shows its latest counter-offer)."""

__all__ = [
    "Seen",
    "Snapshot",
    "Violation",
    "agreement",
    "applied_twice",
    "between",
    "repeats_unacknowledged",
    "undelivered",
    "within",
]


@dataclass(frozen=True)
class Violation:
    """One broken invariant: which, about what, and what was seen."""

    invariant: str
    subject: str
    observed: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.subject}: {self.observed}"


@dataclass(frozen=True)
class Seen:
    """One entity as one party shows it."""

    machine: str
    ident: str
    status: str
    version: int
    links: Mapping[str, str] = field(default_factory=dict)  # lotId, bidId, buyerBidId, ...


@dataclass
class Snapshot:
    """Everything the model reads of both parties after a step, keyed (machine, id)."""

    entities: dict[tuple[str, str], Seen] = field(default_factory=dict)

    def add(self, seen: Seen) -> None:
        self.entities[(seen.machine, seen.ident)] = seen

    def of(self, machine: str) -> list[Seen]:
        return [s for (m, _), s in self.entities.items() if m == machine]

    def get(self, machine: str, ident: str) -> Seen | None:
        return self.entities.get((machine, ident))


def within(workflow: Workflow, snapshot: Snapshot) -> list[Violation]:
    """Each entity's status is a state of its machine; at most one contract per lot and bid."""
    found = [
        Violation("state", f"{s.machine} {s.ident}", f"status {s.status!r} is not a state")
        for s in snapshot.entities.values()
        if s.status not in workflow.machine(s.machine).states
    ]
    for machine in ("buyer.contract", "producer.contract"):
        for link in ("lotId", "bidId"):
            counts = Counter(s.links.get(link) for s in snapshot.of(machine))
            found += [
                Violation("one contract", f"{machine} for {link} {ident}", f"{n} contracts")
                for ident, n in counts.items()
                if ident and n > 1
            ]
    return found


def between(workflow: Workflow, before: Snapshot, after: Snapshot) -> list[Violation]:
    """No entity vanished, moved where its machine cannot lead, or went back in version."""
    found = []
    for key, old in before.entities.items():
        new = after.entities.get(key)
        subject = f"{old.machine} {old.ident}"
        if new is None and old.machine in PARTIAL:
            continue
        if new is None:
            found.append(Violation("kept", subject, f"was {old.status}, now gone"))
            continue
        if new.version < old.version:
            found.append(Violation("version", subject, f"went back {old.version} → {new.version}"))
        reachable = workflow.machine(old.machine).reachable_states(old.status)
        if new.status != old.status and new.status not in reachable:
            found.append(
                Violation("transition", subject, f"{old.status} → {new.status} is no path")
            )
    return found


def applied_twice(deliveries: Iterable[Delivery]) -> list[Violation]:
    """No webhook-id was applied more than once by the producer (its acks say ``applied``)."""
    applied = Counter(d.webhook_id for d in deliveries if d.delivered and was_applied(d))
    return [
        Violation("applied once", f"webhook {ident}", f"applied {n} times")
        for ident, n in applied.items()
        if n > 1
    ]


def repeats_unacknowledged(deliveries: Iterable[Delivery]) -> list[Violation]:
    """A webhook-id the producer accepted before is acknowledged as a duplicate when it comes
    again (its answer says ``duplicate: true``): it de-duplicates on the webhook-id."""
    accepted: set[str] = set()
    found = []
    for delivery in (d for d in deliveries if d.delivered):
        ident = delivery.webhook_id
        if ident in accepted and _answer(delivery).get(ACK_DUPLICATE) is not True:
            observed = f"accepted again and answered {ACK_DUPLICATE}: false ({delivery.event})"
            found.append(Violation("acknowledged as duplicate", f"webhook {ident}", observed))
        accepted.add(ident)
    return found


def was_applied(delivery: Delivery) -> bool:
    return _answer(delivery).get(ACK_APPLIED) is True


def _answer(delivery: Delivery) -> dict[str, object]:
    try:
        answer = json.loads(delivery.answer or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def agreement(workflow: Workflow, snapshot: Snapshot) -> list[Violation]:
    """Settled: the producer shows each buyer lot and bid in the mapped status (a lot the
    producer must not see, or never published, is absent); each buyer contract exists on the
    producer."""
    found = []
    pairs = (("lot", "buyer.lot", "producer.lot"), ("bid", "buyer.bid", "producer.bid"))
    for entity, buyer_machine, producer_machine in pairs:
        for buyer in snapshot.of(buyer_machine):
            expected = workflow.producer_status(entity, buyer.status)
            if entity == "lot" and not buyer.links.get("publishedAt"):
                expected = None  # withdrawn as a draft: "producers were never told"
            ident = buyer.ident if entity == "lot" else _producer_bid(snapshot, buyer.ident)
            theirs = snapshot.get(producer_machine, ident) if ident else None
            shown = theirs.status if theirs else None
            if shown != expected:
                found.append(
                    Violation(
                        "agree",
                        f"{entity} {buyer.ident}",
                        f"buyer {buyer.status} (→ {expected}), producer {shown or 'absent'}",
                    )
                )
            elif entity == "lot" and theirs is not None and theirs.version != buyer.version:
                observed = f"buyer version {buyer.version}, producer version {theirs.version}"
                found.append(Violation("agree", f"lot {buyer.ident}", observed))
    found += [
        Violation("agree", f"contract {c.ident}", "the producer does not have it")
        for c in snapshot.of("buyer.contract")
        if snapshot.get("producer.contract", c.ident) is None
    ]
    return found


def _producer_bid(snapshot: Snapshot, buyer_bid_id: str) -> str | None:
    mine = [s for s in snapshot.of("producer.bid") if s.links.get("buyerBidId") == buyer_bid_id]
    return mine[0].ident if mine else None


def undelivered(owed: Mapping[str, int]) -> list[Violation]:
    """Settled: the buyer owes nothing (no event pending, none given up on)."""
    return [
        Violation("delivered", f"{n} {status} event(s)", "the buyer has not delivered them")
        for status, n in owed.items()
        if n
    ]
