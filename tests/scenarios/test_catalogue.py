"""The shipped catalogue runs green between the two reference portals, and the runner's checks
really fail when the portals do not do what a story says."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotflow.cli.running import load_scenarios
from lotflow.engine import events as ev
from lotflow.engine.loader import catalogue_files, load_catalogue
from lotflow.engine.operations import known_operations
from lotflow.engine.runner import Parties, Runner, operation_index
from lotflow.errors import ScenarioFileError
from lotflow.openapi import load_portal_spec
from lotflow.stack import ReferenceStack
from lotflow.workflow import load_workflow
from tests.fixtures.stack import write_scenario

OPERATIONS = operation_index({p: load_portal_spec(p) for p in ("buyer", "producer")})


def run(parties: Parties, paths: list[Path]) -> list[ev.Event]:
    runner = Runner(parties, OPERATIONS, load_workflow().mapping)
    try:
        return list(runner.run(load_scenarios(paths)))
    finally:
        runner.close()


def results(events: list[ev.Event]) -> list[ev.StepResult]:
    return [
        e.result for e in events if isinstance(e, ev.StepPassed | ev.StepFailed | ev.StepSkipped)
    ]


@pytest.mark.parametrize("path", catalogue_files(), ids=lambda p: p.stem)
def test_catalogue_scenario_passes_between_the_reference_portals(
    stack: ReferenceStack, path: Path
) -> None:
    events = run(stack.parties(), [path])
    failures = [(r.step_id, f.message) for r in results(events) for f in r.failures]
    assert failures == []
    finished = events[-1]
    assert isinstance(finished, ev.RunFinished)
    assert finished.ok
    assert finished.steps_passed == len(results(events)) > 0


OPENING = """\
name: A story with a wrong expectation
steps:
  - id: create-lot
    title: The buyer drafts a lot
    actor: buyer
    call: createLot
    body:
      title: "Lot ${run_id}"
      type: HEFA-SPK
      volume: {amount: 1000, unit: gallons}
      pricing: {price: 6500, currency: USD, pricePerUnit: 6.5}
    save: {lot_id: /lot/_id}
"""


def test_a_wrong_status_expectation_fails_the_step_and_skips_the_rest(
    stack: ReferenceStack, tmp_path: Path
) -> None:
    text = (
        OPENING.replace("    save:", "    expect: {status: 200}\n    save:")
        + """\
  - id: publish
    title: Publish
    actor: buyer
    call: publishLot
    path: {lotId: "${lot_id}"}
"""
    )
    events = run(stack.parties(), [write_scenario(tmp_path, text)])
    first, second = results(events)
    assert [f.check for f in first.failures] == ["status"]
    assert "answered 201, expected 200" in first.failures[0].message
    assert second.skipped
    assert isinstance(events[-1], ev.RunFinished)
    assert events[-1].failed == 1


def test_a_webhook_that_never_comes_fails_with_what_was_seen(
    stack: ReferenceStack, tmp_path: Path
) -> None:
    text = (
        OPENING
        + """\
  - id: publish
    title: Publish; producers are told
    actor: buyer
    call: publishLot
    path: {lotId: "${lot_id}"}
    webhooks:
      - {event: lot.published, match: {/lot/_id: "${lot_id}"}}
  - id: wrong-event
    title: Wait for the wrong event
    wait:
      webhooks:
        - {event: lot.deleted, match: {/lot/_id: "${lot_id}"}, within: 500ms}
"""
    )
    # lot.published has arrived before the wrong event is waited for (a wait step looks at the
    # whole scenario's deliveries), so what was seen is known whatever the machine's load
    step = results(run(stack.parties(), [write_scenario(tmp_path, text)]))[2]
    assert [f.check for f in step.failures] == ["webhook"]
    assert "lot.deleted" in step.failures[0].message
    assert any("lot.published" in seen for seen in step.failures[0].observed)


def test_a_disagreement_between_the_portals_is_reported(
    stack: ReferenceStack, tmp_path: Path
) -> None:
    text = (
        OPENING
        + """\
  - id: publish
    title: Publish, then compare unrelated fields
    actor: buyer
    call: publishLot
    path: {lotId: "${lot_id}"}
    state:
      - party: producer
        call: getMarketplaceLot
        path: {lotId: "${lot_id}"}
        expect: {/lot/status: open}
    agree:
      - entity: lot
        buyer: {call: getLot, path: {lotId: "${lot_id}"}, at: /lot/status}
        producer: {call: getMarketplaceLot, path: {lotId: "${lot_id}"}, at: /lot/type}
        within: 300ms
"""
    )
    step = results(run(stack.parties(), [write_scenario(tmp_path, text)]))[1]
    assert [f.check for f in step.failures] == ["agree"]
    assert (
        "buyer says 'published' (→ 'open' for the producer), producer says 'HEFA-SPK'"
        in step.failures[0].message
    )


def test_an_unknown_variable_fails_the_step_naming_it(
    stack: ReferenceStack, tmp_path: Path
) -> None:
    text = (
        OPENING
        + """\
  - id: publish
    title: Publish a lot that was never saved
    actor: buyer
    call: publishLot
    path: {lotId: "${lott_id}"}
"""
    )
    path = write_scenario(tmp_path, text)
    with pytest.raises(ScenarioFileError, match=r"\$\{lott_id\} is not saved by an earlier step"):
        load_scenarios([path])  # validation against the spec finds it before any run
    runner = Runner(stack.parties(), OPERATIONS, load_workflow().mapping)
    with runner:  # loaded without the spec's facts, the run still fails the step clearly
        events = list(runner.run(load_catalogue([path], known_operations(OPERATIONS))))
    step = results(events)[1]
    assert step.failures[0].check == "variable"
    assert "${lott_id}" in step.failures[0].message


def test_an_unreachable_party_is_a_transport_failure(tmp_path: Path) -> None:
    parties = Parties("http://127.0.0.1:9", "http://127.0.0.1:9", "t", "k", {"alpha": "p"})
    step = results(run(parties, [write_scenario(tmp_path, OPENING)]))[0]
    assert step.failures[0].check == "transport"
    assert "http://127.0.0.1:9" in step.failures[0].message


def test_an_outage_step_without_a_tap_fails_clearly(tmp_path: Path) -> None:
    text = (
        "name: x\nsteps:\n  - id: down\n    title: Down\n    outage: {party: producer, down: "
        "true}\n"
    )
    parties = Parties("http://127.0.0.1:9", "http://127.0.0.1:9", "t", "k", {"alpha": "p"})
    step = results(run(parties, [write_scenario(tmp_path, text)]))[0]
    assert step.failures[0].check == "outage"
