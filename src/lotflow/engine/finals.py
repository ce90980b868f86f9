"""The end of a scenario, observed: every lot, bid and contract a portal showed during the
scenario, read again from that portal once its last step has run.

*Which entities*: the ``_id`` of every top-level ``lot``, ``bid`` or ``contract`` object in a
portal's answers to the scenario's calls and checks, in the order first seen, each with the
first actor it was shown to. Ids belong to a portal (the producer's bid is not the buyer's), and
the actor matters: a producer alias's token reads only its own bid.

*Which operation reads one*: derived from the spec through the operation index, never kept by
hand. On that portal, a GET with exactly one path parameter whose 200 answer has a top-level
property named after the entity; where several do (the buyer's ``getLot`` for its operators,
``getExternalLot`` for producers), first one the actor can call (it shares a security scheme
with the calls the actor made to that portal), then one whose answer requires the entity
(``getContract`` before ``getBid``, which may carry a contract), then the spec's order.

A read that cannot be made or answers without a status leaves the state unknown, with the
reason; it never fails the scenario. The reads are exchanges like any other (purpose
``final``, redacted by :class:`~lotflow.engine.calls.Caller`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lotflow.engine import events as ev
from lotflow.engine.calls import Caller, Target
from lotflow.engine.checks import StepAborted
from lotflow.engine.model import Scenario
from lotflow.engine.operations import OperationRef

__all__ = ["ENTITIES", "PURPOSE", "FinalReader", "Sighting", "reader_for", "readers", "sightings"]

ENTITIES = ("lot", "bid", "contract")
"""The entities both portals keep a state machine of (a test holds this to the workflow)."""
PURPOSE = "final"


@dataclass(frozen=True)
class Sighting:
    """An entity a portal showed during a scenario, and the first actor it showed it to."""

    portal: str
    entity: str
    entity_id: str
    actor: str

    def told(
        self,
        *,
        exchange: ev.Exchange | None = None,
        status: str | None = None,
        reason: str = "",
        shown: Any = None,
    ) -> ev.FinalRead:
        """What reading this entity again found."""
        return ev.FinalRead(
            portal=self.portal,
            entity=self.entity,
            entity_id=self.entity_id,
            actor=self.actor,
            exchange=exchange,
            status=status,
            reason=reason,
            shown=shown,
        )


def sightings(steps: Iterable[ev.StepResult]) -> list[Sighting]:
    """Every entity the steps' answers showed, once each, in the order first seen."""
    found: dict[tuple[str, str, str], Sighting] = {}
    for step in steps:
        for exchange in step.exchanges:
            body = exchange.response.body if exchange.response is not None else None
            for entity, entity_id in _entities(body):
                key = (exchange.portal, entity, entity_id)
                found.setdefault(key, Sighting(*key, exchange.actor))
    return list(found.values())


def _entities(body: Any) -> Iterable[tuple[str, str]]:
    if not isinstance(body, dict):
        return
    for entity in ENTITIES:
        shown = body.get(entity)
        if isinstance(shown, dict) and isinstance(shown.get("_id"), str) and shown["_id"]:
            yield entity, shown["_id"]


def readers(index: Mapping[str, OperationRef], portal: str, entity: str) -> list[str]:
    """The operations of ``portal`` that read one ``entity`` by its id, in the spec's order."""
    return [
        op_id
        for op_id, ref in index.items()
        if ref.portal == portal
        and ref.method == "GET"
        and len(_path_parameters(ref)) == 1
        and entity in ref.answers
    ]


def reader_for(
    index: Mapping[str, OperationRef], portal: str, entity: str, schemes: Collection[str] = ()
) -> str | None:
    """The operation to read ``entity`` on ``portal`` with, for an actor that can present
    ``schemes``; None when the spec has none."""

    def rank(op_id: str) -> tuple[bool, bool]:
        ref = index[op_id]
        return not set(ref.security) & set(schemes), entity not in ref.answers_required

    return min(readers(index, portal, entity), key=rank, default=None)


def _path_parameters(ref: OperationRef) -> list[str]:
    return [str(p.get("name")) for p in ref.operation.parameters if p.get("in") == "path"]


class FinalReader:
    """Reads every entity a scenario touched, through the runner's :class:`Caller`."""

    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self.index = caller.operations

    def read(self, scenario: Scenario, steps: Iterable[ev.StepResult]) -> tuple[ev.FinalRead, ...]:
        """One :class:`~lotflow.engine.events.FinalRead` per entity the steps showed."""
        done = list(steps)
        schemes = self._schemes(done)
        return tuple(
            self._read(scenario, seen, schemes.get((seen.actor, seen.portal), set()))
            for seen in sightings(done)
        )

    def _schemes(self, steps: list[ev.StepResult]) -> dict[tuple[str, str], set[str]]:
        """(actor, portal) → the security schemes of the operations the actor called there."""
        schemes: dict[tuple[str, str], set[str]] = {}
        for exchange in (x for step in steps for x in step.exchanges):
            ref = self.index.get(exchange.operation)
            if ref is not None:
                schemes.setdefault((exchange.actor, exchange.portal), set()).update(ref.security)
        return schemes

    def _read(self, scenario: Scenario, seen: Sighting, schemes: set[str]) -> ev.FinalRead:
        op_id = reader_for(self.index, seen.portal, seen.entity, schemes)
        if op_id is None:
            reason = f"the {seen.portal} portal's spec has no operation that reads a {seen.entity}"
            return seen.told(reason=reason)
        target = Target(
            op_id,
            seen.actor,
            scenario.producer_alias(seen.actor),
            {_path_parameters(self.index[op_id])[0]: seen.entity_id},
            {},
            None,
            PURPOSE,
        )
        try:
            reply = self.caller.send(target)
        except StepAborted as stop:
            return seen.told(exchange=_unanswered(seen, op_id, stop), reason=stop.failure.message)
        return _judged(seen, op_id, reply.exchange, reply.body)


def _judged(seen: Sighting, op_id: str, exchange: ev.Exchange, body: Any) -> ev.FinalRead:
    """The read's answer: the entity's status, or why it says none."""
    shown = body.get(seen.entity) if isinstance(body, dict) else None
    status = shown.get("status") if isinstance(shown, dict) else None
    answered = exchange.status
    if answered is not None and 200 <= answered < 300 and isinstance(status, str):
        return seen.told(exchange=exchange, status=status, shown=shown)
    if answered is not None and 200 <= answered < 300:
        reason = f"{op_id} answered {answered} without a {seen.entity} status"
    else:
        reason = f"{op_id} answered {answered}{_problem(body)}"
    return seen.told(exchange=exchange, reason=reason)


def _problem(body: Any) -> str:
    """``: Lot not found`` from a problem document's title or detail, when it has one."""
    if not isinstance(body, dict):
        return ""
    words = body.get("detail") or body.get("title")
    return f": {words}" if isinstance(words, str) and words else ""


def _unanswered(seen: Sighting, op_id: str, stop: StepAborted) -> ev.Exchange | None:
    """The read as sent when the portal could not be reached (no request: None)."""
    if stop.failure.request is None:
        return None
    return ev.Exchange(
        portal=seen.portal,
        operation=op_id,
        actor=seen.actor,
        purpose=PURPOSE,
        request=stop.failure.request,
        response=None,
        duration_ms=0.0,
    )
