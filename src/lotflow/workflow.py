"""The workflow state machines of the contract, loaded from ``spec/workflow.yaml``.

Reference portals ask a machine for the transition a cause (an operationId, a webhook event or a
timer) takes from an entity's current state (:meth:`StateMachine.transition`): it raises
:class:`~lotflow.errors.IllegalTransitionError` when there is none (answered 409
``illegal_transition`` at the HTTP boundary), and the transition it returns names the webhook
events the change sends. ``lotflow spec check`` verifies the machines against the OpenAPI
documents, and ``lotflow spec diagram`` draws them as Mermaid state diagrams.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from lotflow.errors import IllegalTransitionError, SpecError
from lotflow.yamlsource import read_yaml

CauseKind = Literal["operation", "event", "timer"]
CAUSE_KINDS: tuple[CauseKind, ...] = ("operation", "event", "timer")


@dataclass(frozen=True)
class Cause:
    """What triggers a transition: an operationId, a webhook event name, or a timer."""

    kind: CauseKind
    name: str

    def __str__(self) -> str:
        return self.name if self.kind != "timer" else f"timer: {self.name}"


@dataclass(frozen=True)
class Transition:
    """One legal move; ``source`` is empty for the transition that creates the entity."""

    source: tuple[str, ...]
    target: str
    cause: Cause
    when: str | None = None
    emits: tuple[str, ...] = ()

    @property
    def creates(self) -> bool:
        return not self.source


@dataclass(frozen=True)
class StateMachine:
    """The states of one entity on one portal and the transitions between them."""

    name: str
    portal: str
    entity: str
    description: str
    states: tuple[str, ...]
    initial: str
    terminal: frozenset[str]
    transitions: tuple[Transition, ...]

    @cached_property
    def _by_cause(self) -> dict[str, tuple[Transition, ...]]:
        """The transitions of each cause, in the machine's order (portals ask on every write)."""
        found: dict[str, list[Transition]] = {}
        for t in self.transitions:
            found.setdefault(t.cause.name, []).append(t)
        return {cause: tuple(ts) for cause, ts in found.items()}

    def _of(self, cause: str) -> tuple[Transition, ...]:
        return self._by_cause.get(cause, ())

    def targets(self, cause: str, current: str | None) -> set[str]:
        """States that ``cause`` may lead to from ``current`` (``None``: creation)."""
        return {
            t.target for t in self._of(cause) if (current in t.source if current else t.creates)
        }

    def allows(self, cause: str, current: str | None, target: str | None = None) -> bool:
        """Whether ``cause`` may move an entity from ``current`` (to ``target``, if given)."""
        reachable = self.targets(cause, current)
        return bool(reachable) if target is None else target in reachable

    @property
    def open_states(self) -> tuple[str, ...]:
        """The states an entity can still leave (every state that is not terminal), in order."""
        return tuple(state for state in self.states if state not in self.terminal)

    def sources(self, cause: str, target: str) -> tuple[str, ...]:
        """The states from which ``cause`` leads to ``target``, in the machine's order."""
        found = {s for t in self._of(cause) if t.target == target for s in t.source}
        return tuple(state for state in self.states if state in found)

    def transition(
        self, cause: str, current: str | None, target: str | None = None, *, entity_id: str = ""
    ) -> Transition:
        """The transition ``cause`` takes from ``current`` (``None``: creation) to ``target``
        (any, when there is only one); :class:`IllegalTransitionError` when there is none.

        Transitions that differ only in their ``when`` are the same move (the check of the
        workflow makes sure they emit the same events), so the first is returned.
        """
        found = [
            t
            for t in self._of(cause)
            if (current in t.source if current is not None else t.creates)
            and (target is None or t.target == target)
        ]
        if not found:
            raise self._illegal(cause, current, target, entity_id)
        if target is None and len({t.target for t in found}) > 1:
            targets = ", ".join(sorted({t.target for t in found}))
            raise SpecError(f"{self.name}: {cause} from {current} may lead to {targets}; name one.")
        return found[0]

    def require(
        self, cause: str, current: str, target: str | None = None, *, entity_id: str = ""
    ) -> None:
        """Raise :class:`IllegalTransitionError` unless the transition is legal."""
        self.transition(cause, current, target, entity_id=entity_id)

    def _illegal(
        self, cause: str, current: str | None, target: str | None, entity_id: str
    ) -> IllegalTransitionError:
        allowed = sorted({s for t in self.transitions if t.cause.name == cause for s in t.source})
        wanted = f" to {target}" if target else ""
        what = f"{self.entity.replace('_', '-')} {entity_id}".strip()
        state = current or "not created yet"
        return IllegalTransitionError(
            f"{what.capitalize()} is {state}; {cause} cannot move it{wanted}"
            f" (allowed from: {', '.join(allowed) or 'nowhere'}).",
            current=current or "",
            operation=cause,
        )

    def reachable_states(self, start: str | None = None) -> set[str]:
        """States reachable from creation (or from ``start``, itself included) by following
        transitions."""
        created = {t.target for t in self.transitions if t.creates} | {self.initial}
        seen = {start} if start is not None else created
        frontier = list(seen)
        while frontier:
            state = frontier.pop()
            for t in self.transitions:
                if state in t.source and t.target not in seen:
                    seen.add(t.target)
                    frontier.append(t.target)
        return seen


@dataclass(frozen=True)
class Workflow:
    """All machines, keyed ``<portal>.<entity>``, and the buyer→producer status mapping."""

    machines: Mapping[str, StateMachine]
    mapping: Mapping[str, Mapping[str, str | None]] = field(default_factory=dict)

    def machine(self, name: str) -> StateMachine:
        try:
            return self.machines[name]
        except KeyError:
            known = ", ".join(sorted(self.machines))
            raise SpecError(f"No state machine named {name!r}; known: {known}.") from None

    def producer_status(self, entity: str, buyer_status: str) -> str | None:
        """The producer-side status that corresponds to ``buyer_status`` of ``entity``."""
        return self.mapping.get(entity, {}).get(buyer_status)

    def expected_events(self, portal: str, cause: str, moves: Iterable[Move]) -> list[Move]:
        """The events a change must send, by the contract: for each entity the change moved, the
        events its transition emits (each returned as the move that emits it, ``event`` set).

        ``cause`` is an operationId, an event, or ``"timer"`` for what the clock triggers. A
        revision that moved no state and matches no transition sends nothing; a state move the
        machine does not have raises :class:`IllegalTransitionError`: that is a bug to report,
        not an event to expect.
        """
        expected = []
        for move in moves:
            machine = self.machine(f"{portal}.{move.entity}")
            step = _step(machine, cause, move)
            expected += [
                Move(move.entity, move.entity_id, move.source, move.target, e)
                for e in (step.emits if step else ())
            ]
        return expected


@dataclass(frozen=True)
class Move:
    """One entity's change as observed: ``source`` is None for a new entity; ``event`` names
    the event a move sends (see :meth:`Workflow.expected_events`)."""

    entity: str
    entity_id: str
    source: str | None
    target: str
    event: str = ""


def _step(machine: StateMachine, cause: str, move: Move) -> Transition | None:
    if cause == "timer":
        timers = [
            t
            for t in machine.transitions
            if t.cause.kind == "timer" and move.source in t.source and t.target == move.target
        ]
        if timers:
            return timers[0]
        raise machine._illegal("timer", move.source, move.target, move.entity_id)
    if move.source == move.target and not machine.allows(cause, move.source, move.target):
        return None  # a revision that is no move (a link to a new entity)
    return machine.transition(cause, move.source, move.target, entity_id=move.entity_id)


def workflow_path() -> Path:
    """Where the shipped workflow file lives."""
    return Path(str(files("lotflow.spec") / "workflow.yaml"))


@cache
def load_workflow(path: Path | None = None) -> Workflow:
    """Load and structurally check a workflow file (the shipped one by default)."""
    source = path or workflow_path()
    return parse_workflow(read_yaml(source, "workflow file"), str(source))


def parse_workflow(data: Any, source: str = "<workflow>") -> Workflow:
    """Build a :class:`Workflow` from loaded YAML data; raise ``SpecError`` on a bad shape."""
    if not isinstance(data, dict) or not isinstance(data.get("machines"), dict):
        raise SpecError(f"{source}: expected a mapping with a 'machines' mapping at the top.")
    machines = {name: _parse_machine(name, body, source) for name, body in data["machines"].items()}
    mapping = data.get("mapping") or {}
    if not isinstance(mapping, dict):
        raise SpecError(f"{source}: 'mapping' must map entity → buyer status → producer status.")
    return Workflow(machines=machines, mapping=mapping)


def _parse_machine(name: str, body: Any, source: str) -> StateMachine:
    where = f"{source}: machine {name}"
    if not isinstance(body, dict):
        raise SpecError(f"{where}: expected a mapping.")
    missing = [k for k in ("portal", "entity", "states", "initial", "transitions") if k not in body]
    if missing:
        raise SpecError(f"{where}: missing {', '.join(missing)}.")
    transitions = tuple(
        _parse_transition(i, t, where) for i, t in enumerate(body["transitions"], start=1)
    )
    return StateMachine(
        name=name,
        portal=str(body["portal"]),
        entity=str(body["entity"]),
        description=str(body.get("description", "")),
        states=tuple(body["states"]),
        initial=str(body["initial"]),
        terminal=frozenset(body.get("terminal", ())),
        transitions=transitions,
    )


def _parse_transition(index: int, raw: Any, where: str) -> Transition:
    at = f"{where}, transition {index}"
    if not isinstance(raw, dict) or not {"from", "to", "cause"} <= raw.keys():
        raise SpecError(f"{at}: needs 'from', 'to' and 'cause'.")
    cause = raw["cause"]
    if not isinstance(cause, dict) or len(cause) != 1 or next(iter(cause)) not in CAUSE_KINDS:
        raise SpecError(f"{at}: 'cause' must have exactly one of {', '.join(CAUSE_KINDS)}.")
    kind, name = next(iter(cause.items()))
    return Transition(
        source=tuple(raw["from"] or ()),
        target=str(raw["to"]),
        cause=Cause(kind=kind, name=str(name)),
        when=raw.get("when"),
        emits=tuple(raw.get("emits") or ()),
    )


def check_workflow(
    workflow: Workflow,
    operations: Mapping[str, Iterable[str]],
    events: Iterable[str],
) -> list[str]:
    """Consistency problems between the machines and the OpenAPI documents.

    ``operations`` maps a portal name to its operationIds; ``events`` are the buyer's webhook
    events. Checks: every state named exists; every cause and emitted event exists; every state is
    reachable from creation; terminal states have no way out; the mapping names real states.
    """
    event_set = set(events)
    problems: list[str] = []
    for machine in workflow.machines.values():
        problems += _check_machine(machine, set(operations.get(machine.portal, ())), event_set)
    problems += _check_mapping(workflow)
    return problems


def _check_machine(machine: StateMachine, operations: set[str], events: set[str]) -> list[str]:
    name, states = machine.name, set(machine.states)
    problems = []
    if machine.initial not in states:
        problems.append(f"{name}: initial state {machine.initial!r} is not a state")
    problems += [f"{name}: terminal {s!r} is not a state" for s in machine.terminal - states]
    for t in machine.transitions:
        problems += [
            f"{name}: transition {t.cause} names unknown state {s!r}"
            for s in (*t.source, t.target)
            if s not in states
        ]
        known = operations if t.cause.kind == "operation" else events
        if t.cause.kind != "timer" and t.cause.name not in known:
            problems.append(f"{name}: cause {t.cause.kind} {t.cause.name!r} is not in the spec")
        problems += [f"{name}: emits unknown event {e!r}" for e in t.emits if e not in events]
        problems += [
            f"{name}: terminal state {s!r} has a way out ({t.cause} → {t.target})"
            for s in t.source
            if s in machine.terminal
        ]
    problems += _disagreeing_emits(machine)
    unreachable = states - machine.reachable_states()
    problems += [f"{name}: state {s!r} is unreachable" for s in sorted(unreachable)]
    return problems


def _disagreeing_emits(machine: StateMachine) -> list[str]:
    """Transitions that make the same move (cause, from, to) must send the same events: a portal
    cannot tell them apart by anything but their prose ``when``."""
    seen: dict[tuple[str, str | None, str], tuple[str, ...]] = {}
    problems = []
    for t in machine.transitions:
        for source in t.source or (None,):
            move = (t.cause.name, source, t.target)
            if seen.setdefault(move, t.emits) != t.emits:
                start = source or "creation"
                problems.append(
                    f"{machine.name}: {t.cause} from {start} to {t.target} emits "
                    f"{list(seen[move])} in one transition and {list(t.emits)} in another"
                )
    return problems


def _check_mapping(workflow: Workflow) -> list[str]:
    problems = []
    for entity, pairs in workflow.mapping.items():
        buyer = workflow.machines.get(f"buyer.{entity}")
        producer = workflow.machines.get(f"producer.{entity}")
        if buyer is None or producer is None:
            problems.append(f"mapping: no buyer.{entity} and producer.{entity} machines")
            continue
        for b, p in pairs.items():
            if b not in buyer.states:
                problems.append(f"mapping.{entity}: {b!r} is not a buyer {entity} state")
            if p is not None and p not in producer.states:
                problems.append(f"mapping.{entity}: {p!r} is not a producer {entity} state")
        problems += [
            f"mapping.{entity}: buyer state {s!r} has no mapping"
            for s in buyer.states
            if s not in pairs
        ]
    return problems


def mermaid(machine: StateMachine) -> str:
    """The machine as a Mermaid ``stateDiagram-v2``."""
    edges: dict[str, None] = {}  # ordered set: one arrow per distinct edge and label
    for t in machine.transitions:
        label = str(t.cause) + (f" ⇒ {', '.join(t.emits)}" if t.emits else "")
        for source in t.source or ("[*]",):
            edges[f"    {source} --> {t.target}: {label}"] = None
    lines = ["stateDiagram-v2", f"    %% {machine.name}: {machine.description}", *edges]
    lines += [f"    {state} --> [*]" for state in sorted(machine.terminal)]
    return "\n".join(lines)
