"""A step list of the model prints as a scenario file that the loader accepts and the runner
replays green between two running reference portals, its delivery faults played by the tap."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lotflow.cli.running import known_operations, load_scenarios
from lotflow.engine import events as ev
from lotflow.engine.loader import load_scenario
from lotflow.engine.model import NetworkStep
from lotflow.engine.runner import Runner, operation_index
from lotflow.explore.inprocess import InProcessPair
from lotflow.explore.model import Outcome, build_model
from lotflow.explore.network import Fault
from lotflow.explore.printer import print_scenario
from lotflow.openapi import load_portal_spec
from lotflow.stack import ReferenceStack
from lotflow.workflow import load_workflow


def counter_story(make_pair: Callable[[], InProcessPair]) -> Outcome:
    """Lot, bid, counter-offer declined, the producer offline while the buyer accepts, settled;
    the webhooks meanwhile duplicated, delayed and released late, dropped, refused, their
    answers lost."""
    outcome = Outcome()
    m = build_model(make_pair, outcome)()
    m.create_lot(1000, publish=True)
    m.submit_bid(0, 1, None)  # producer beta
    m.dispatch(Fault.DUPLICATE)
    m.counter_bid(0, None)
    m.dispatch(Fault.DELAY)
    m.release_held(1)  # the counter-offer, before the lot.published copy
    m.settle(Fault.DROP)
    m.answer_counter(0, False)
    m.receiver(False)
    m.accept_bid(0, True)
    m.dispatch(Fault.NONE)  # refused: the receiver is down
    m.pass_time(30)
    m.receiver(True)
    m.dispatch(Fault.LOST_ANSWER)
    m.teardown()  # every story ends settled
    return outcome


def test_a_printed_clean_run_loads_and_replays_green_with_its_network_steps(
    make_pair: Callable[[], InProcessPair], stack: ReferenceStack, tmp_path: Path
) -> None:
    outcome = counter_story(make_pair)
    assert outcome.violations == []
    text = print_scenario(outcome.steps, name="Printed by the model", description="A replay.")
    path = tmp_path / "printed.yaml"
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path, known_operations())
    assert [s.id for s in scenario.steps][:4] == [
        "s01-network-duplicate",
        "s01-the-buyer-drafts-lot-1",
        "s02-the-buyer-publishes-lot-1",
        "s03-producer-beta-bids-6-30-gal",
    ]
    faults = [s.fault for s in scenario.steps if isinstance(s, NetworkStep) and s.fault]
    assert faults == ["duplicate", "delay", "drop", "deliver", "lost-answer", "deliver"]
    releases = [s.event for s in scenario.steps if isinstance(s, NetworkStep) and s.release]
    assert releases == ["bid.counter_offer", None]
    assert "# s14-30-seconds-pass: 30 seconds pass (no step needed: no expiry is set" in text
    operations = operation_index({p: load_portal_spec(p) for p in ("buyer", "producer")})
    with Runner(stack.parties(), operations, load_workflow().mapping) as runner:
        events = list(runner.run(load_scenarios([path])))
    failed = [(e.result.step_id, e.result.failures) for e in events if isinstance(e, ev.StepFailed)]
    assert failed == []
    finished = events[-1]
    assert isinstance(finished, ev.RunFinished)
    assert finished.ok
    assert finished.steps_passed == len(scenario.steps)
