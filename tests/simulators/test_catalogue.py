"""The shipped scenario catalogue passes between each simulator and the opposite reference
portal, with the simulator standing where the webhook tap stands, and no findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotflow.cli.running import load_scenarios
from lotflow.engine import events as ev
from lotflow.engine.loader import catalogue_files
from lotflow.engine.runner import Parties, Runner, operation_index
from lotflow.openapi import load_portal_spec
from lotflow.workflow import load_workflow
from tests.simulators.conftest import BuyerSide, ProducerSide

OPERATIONS = operation_index({p: load_portal_spec(p) for p in ("buyer", "producer")})


def failures_of(parties: Parties, path: Path) -> list[tuple[str, str]]:
    with Runner(parties, OPERATIONS, load_workflow().mapping) as runner:
        events = list(runner.run(load_scenarios([path])))
    steps = [
        e.result for e in events if isinstance(e, ev.StepPassed | ev.StepFailed | ev.StepSkipped)
    ]
    finished = events[-1]
    assert isinstance(finished, ev.RunFinished)
    found = [(r.step_id, f.message) for r in steps for f in r.failures]
    assert finished.ok or found
    return found


@pytest.mark.parametrize("path", catalogue_files(), ids=lambda p: p.stem)
def test_catalogue_passes_between_the_buyer_simulator_and_the_reference_producer(
    buyer_side: BuyerSide, path: Path
) -> None:
    before = len(buyer_side.sim.findings())
    assert failures_of(buyer_side.parties(), path) == []
    assert [f.line() for f in buyer_side.sim.findings()[before:]] == []


@pytest.mark.parametrize("path", catalogue_files(), ids=lambda p: p.stem)
def test_catalogue_passes_between_the_reference_buyer_and_the_producer_simulator(
    producer_side: ProducerSide, path: Path
) -> None:
    before = len(producer_side.sim.findings())
    assert failures_of(producer_side.parties(), path) == []
    assert [f.line() for f in producer_side.sim.findings()[before:]] == []
