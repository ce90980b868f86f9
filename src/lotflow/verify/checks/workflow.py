"""The buyer's state machines, as its API enforces them.

``buyer.workflow.illegal-refused``: for every state of the buyer's lot, bid, counter-offer and
contract machines (``spec/workflow.yaml``), every operation the machine refuses there is
refused with 409 and changes nothing: the entity reads back exactly as it did before. The
subjects are read from the machines and the spec: an operation acts on an entity when its path
or body names the entity's id (``bidId``, ``counterOfferId``, ...); a body member ``status``
whose values are the machine's states, or a boolean ``accept``, makes one subject per value.
States only a timer reaches are not run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lotflow.openapi import Operation, resolve
from lotflow.verify.checks.support import (
    NEEDS_KEY,
    NEEDS_SETUP,
    SETUP_REMEDY,
    SetupFailedError,
    describe,
    example_body,
    wanted,
)
from lotflow.verify.registry import Check, Direction
from lotflow.verify.results import SubjectResult, failed, not_run, passed
from lotflow.verify.session import Answer, Party, VerifySession
from lotflow.verify.states import Entities, StateBuilder, UnreachableError

MACHINES = ("buyer.lot", "buyer.bid", "buyer.counter_offer", "buyer.contract")
CONFLICT = 409


def id_member(entity: str) -> str:
    """``counter_offer`` → ``counterOfferId``."""
    head, *rest = entity.split("_")
    return head + "".join(part.title() for part in rest) + "Id"


@dataclass(frozen=True)
class Action:
    """An operation on an entity, with the body member that picks its outcome, if any."""

    operation: str
    variant: tuple[tuple[str, Any], ...] = ()
    target: str | None = None

    def __str__(self) -> str:
        chosen = ", ".join(
            f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in self.variant
        )
        return f"{self.operation}({chosen})" if chosen else self.operation


@dataclass(frozen=True)
class Case:
    machine: str
    state: str
    action: Action

    @property
    def entity(self) -> str:
        return self.machine.split(".", 1)[1]

    @property
    def subject(self) -> str:
        return f"{self.machine} {self.state}: {self.action}"


def _acts_on(session: VerifySession, operation: Operation, entity: str) -> bool:
    name = id_member(entity)
    body = resolve(session.spec, operation.request_schema or {})
    return f"{{{name}}}" in operation.path or name in body.get("properties", {})


def _actions(session: VerifySession, machine_name: str) -> Iterator[Action]:
    machine = session.workflow.machine(machine_name)
    causes = dict.fromkeys(t.cause.name for t in machine.transitions if t.cause.kind == "operation")
    for name in causes:
        operation = session.operations[name]
        if not _acts_on(session, operation, machine.entity):
            continue
        properties = resolve(session.spec, operation.request_schema or {}).get("properties", {})
        status = resolve(session.spec, properties.get("status", {}))
        if [v for v in status.get("enum", []) if v in machine.states]:
            yield from (
                Action(name, (("status", v),), v) for v in status["enum"] if v in machine.states
            )
        elif resolve(session.spec, properties.get("accept", {})).get("type") == "boolean":
            yield from (Action(name, (("accept", v),)) for v in (True, False))
        else:
            yield Action(name)


def cases(session: VerifySession) -> list[Case]:
    """Every (state, refused action) of the buyer's machines, in the machines' order."""
    found = []
    for name in MACHINES:
        machine = session.workflow.machine(name)
        actions = list(_actions(session, name))
        for state in machine.states:
            found += [
                Case(name, state, a)
                for a in actions
                if not machine.allows(a.operation, state, a.target)
            ]
    return found


def _subjects(session: VerifySession) -> Sequence[str]:
    return [case.subject for case in cases(session)]


# ---------------------------------------------------------------------------------- running


@dataclass
class _Run:
    session: VerifySession
    builder: StateBuilder
    ready: dict[tuple[str, str], Entities] = field(default_factory=dict)

    async def entities(self, case: Case) -> Entities:
        key = (case.machine, case.state)
        if key not in self.ready:
            self.ready[key] = await self.builder.reach(case.machine, case.state)
        return self.ready[key]

    def read_operation(self, entity: str) -> tuple[str, str]:
        """The operation that reads ``entity`` back (the counter-offer: its bid), and its id."""
        read = "bid" if entity == "counter_offer" else entity
        member = id_member(read)
        operator = self.session.has_operator
        for op in self.session.operations.values():
            by_operator = self.session.party_of(op) is Party.OPERATOR
            if op.method == "get" and op.path.endswith(f"{{{member}}}") and by_operator == operator:
                return op.operation_id, member
        raise LookupError(f"No operation reads {entity}")

    async def read(self, case: Case, found: Entities) -> Answer:
        operation, member = self.read_operation(case.entity)
        entity = "bid" if case.entity == "counter_offer" else case.entity
        return await self.session.call(operation, path={member: str(found.id_of(entity))})


def _body(session: VerifySession, case: Case, found: Entities) -> Any:
    operation = session.operations[case.action.operation]
    if operation.request_schema is None:
        return None
    body = example_body(session, case.action.operation)
    body.update(dict(case.action.variant))
    for entity in ("lot", "bid", "counter_offer", "contract"):
        member = id_member(entity)
        if member in body:
            if found.id_of(entity):
                body[member] = found.id_of(entity)
            else:
                del body[member]
    if isinstance(body.get("volume"), dict) and found.lot:
        body["volume"]["unit"] = found.lot["volume"]["unit"]
    return body


def _path(session: VerifySession, case: Case, found: Entities) -> dict[str, str]:
    operation = session.operations[case.action.operation]
    values = {}
    for entity in ("lot", "bid", "counter_offer", "contract"):
        member = id_member(entity)
        if f"{{{member}}}" in operation.path:
            values[member] = str(found.id_of(entity))
    return values


async def _attempt(run: _Run, case: Case) -> SubjectResult:
    check, session = ILLEGAL_REFUSED.id, run.session
    operation = session.operations[case.action.operation]
    if session.party_of(operation) is Party.OPERATOR and not session.has_operator:
        return not_run(check, case.subject, NEEDS_OPERATOR_REASON, NEEDS_OPERATOR_REMEDY)
    try:
        found = await run.entities(case)
    except UnreachableError as exc:
        return not_run(check, case.subject, exc.reason, exc.remedy)
    except SetupFailedError as exc:
        return not_run(check, case.subject, str(exc), SETUP_REMEDY)
    before = await run.read(case, found)
    body = _body(session, case, found)
    kwargs: dict[str, Any] = {} if body is None else {"body": body}
    answer = await session.call(case.action.operation, path=_path(session, case, found), **kwargs)
    after = await run.read(case, found)
    return _verdict(run, case, answer, before, after)


def _verdict(run: _Run, case: Case, answer: Answer, before: Answer, after: Answer) -> SubjectResult:
    check, subject = ILLEGAL_REFUSED.id, case.subject
    refused = answer.status == CONFLICT  # its body's shape is buyer.api.problem-errors' to judge
    unchanged = before.status == after.status and before.json() == after.json()
    if refused and unchanged:
        return passed(check, subject)
    run.ready.pop((case.machine, case.state), None)  # it may have moved: set up a new one
    expected = (
        f"{case.action} on a {case.entity.replace('_', '-')} in state {case.state} is refused "
        f"with 409 and changes nothing (the workflow has no such transition)"
    )
    observed = f"answered {describe(answer)}" + (
        "" if unchanged else "; the entity read back changed (before, call, after below)"
    )
    return failed(check, subject, wanted(expected, observed, [before, answer, after]))


NEEDS_OPERATOR_REASON = "the action is the buyer's own, and no operator credentials were given"
NEEDS_OPERATOR_REMEDY = "give --buyer-header/--buyer-cookie"


async def _illegal_refused(session: VerifySession) -> AsyncIterator[SubjectResult]:
    run = _Run(session, StateBuilder(session))
    for case in cases(session):
        yield await _attempt(run, case)


ILLEGAL_REFUSED = Check(
    "buyer.workflow.illegal-refused",
    "In every state, every operation the workflow refuses there is refused with 409 and "
    "changes nothing (read back and compared).",
    Direction.BUYER_WORKFLOW,
    _illegal_refused,
    _subjects,
    (NEEDS_KEY, NEEDS_SETUP),
)

CHECKS = (ILLEGAL_REFUSED,)
