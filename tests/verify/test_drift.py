"""The workflow cases come from the spec and the machines; the docs name every check and fault."""

from __future__ import annotations

from pathlib import Path

from lotflow.reference.faults import CATALOGUE

from lotflow.verify.checks.workflow import MACHINES, cases
from lotflow.verify.registry import all_checks
from lotflow.verify.session import VerifySession
from lotflow.workflow import load_workflow

DOCS = Path(__file__).resolve().parents[2] / "docs" / "verify.md"


def test_every_state_of_every_buyer_machine_has_refused_cases() -> None:
    session = VerifySession("http://buyer.test")
    found = cases(session)
    workflow = load_workflow()
    assert set(MACHINES) == {name for name in workflow.machines if name.startswith("buyer.")}
    for name in MACHINES:
        machine = workflow.machine(name)
        states = {case.state for case in found if case.machine == name}
        assert set(machine.terminal) <= states  # a terminal state refuses every action
        for case in (c for c in found if c.machine == name):
            assert not machine.allows(case.action.operation, case.state, case.action.target)


def test_terminal_states_refuse_every_action_on_them() -> None:
    found = cases(VerifySession("http://buyer.test"))
    sold = {c.action.operation for c in found if c.machine == "buyer.lot" and c.state == "sold"}
    assert sold == {"updateLot", "deleteLot", "publishLot"}
    completed = [c for c in found if c.machine == "buyer.contract" and c.state == "completed"]
    assert len(completed) == len(load_workflow().machine("buyer.contract").states)


def test_the_docs_name_every_check_and_every_fault() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [c.id for c in all_checks() if f"`{c.id}`" not in text]
    missing += [name for name in CATALOGUE if f"`{name}`" not in text]
    assert missing == []


def test_every_subject_names_an_operation_or_event_of_the_spec() -> None:
    """The scorecard's by-operation table groups subjects by the operation or event each names
    (``[<context>: ]<operation>[ <detail>]``): a subject that names neither lands in a row of
    its own (such as ``after`` or ``lot.published,``)."""
    from lotflow.openapi import load_portal_spec, operations
    from lotflow.verify.scorecard import operation_of

    known: set[str] = set()
    for portal in ("buyer", "producer"):
        spec = load_portal_spec(portal)
        known |= set(operations(spec))  # by operationId
        known |= set(spec.get("webhooks", {}))
    session = VerifySession("http://buyer.test")
    strays = {
        (check.id, subject)
        for check in all_checks()
        for subject in check.subjects(session)
        if operation_of(subject) not in known
    }
    assert strays == set()
