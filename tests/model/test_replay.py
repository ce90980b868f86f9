"""Issue 16's last gap, end to end: a bug only a delivery fault exposes is found by the model
(in-process, the producer built with a deliberate fault), its counterexample prints as a
scenario whose network steps lotflow's webhook tap plays, and ``lotflow scenario run`` (the CLI,
real servers on port 0) replays it: red against the faulty producer with the evidence, green
against the clean pair."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from lotflow.cli.portals import free_port
from lotflow.engine.tap import NetworkFault, WebhookTap
from lotflow.explore.inprocess import InProcessPair
from lotflow.explore.live import LivePair
from lotflow.explore.model import ModelViolationError, Outcome, build_model
from lotflow.explore.network import Fault
from lotflow.explore.pair import Pair
from lotflow.explore.printer import print_scenario
from lotflow.serving import ServerThread
from lotflow.stack import ReferenceStack
from tests.cli.test_first_hour_run import run

WITHIN = "4s"  # each check of the printed files: a failing replay waits this long


def test_every_fault_the_model_draws_but_the_killed_sender_is_one_the_tap_plays() -> None:
    drawn = {fault.value for fault in Fault} - {Fault.KILL_SENDER.value}
    assert drawn == {fault.value for fault in NetworkFault}


def found_by_the_model(make_pair: Callable[[], Pair], story: Callable[[Any], None]) -> Outcome:
    """Play ``story`` on the model's rules (it checks the invariants after each step, as the
    Hypothesis runner does) on the pair ``make_pair`` makes; teardown settles it."""
    outcome = Outcome()
    model = build_model(make_pair, outcome)()
    try:
        story(model)
    except ModelViolationError:
        pass
    finally:
        model.teardown()
    return outcome


def in_process(tmp: Path, fault: str) -> Callable[[], InProcessPair]:
    """Fresh in-process pairs whose producer is built with ``fault``."""
    folders = itertools.count()

    def make() -> InProcessPair:
        folder = tmp / f"pair-{next(folders)}"
        folder.mkdir()
        return InProcessPair(folder, producer_faults=(fault,))

    return make


def a_copy_arrives_late(m: Any) -> None:
    """A lot published under duplicate delivery; its copy arrives after a repricing."""
    m.open_lot_with_a_bid(1000, 0)
    m.holds()
    m.dispatch(Fault.DUPLICATE)
    m.holds()
    m.update_lot(0, 6.4)
    m.dispatch(Fault.NONE)
    m.holds()
    m.release_held(0)
    m.holds()


def an_older_update_arrives_last(m: Any) -> None:
    """Two repricings held back, then delivered newest first."""
    m.open_lot_with_a_bid(1000, 0)
    m.dispatch(Fault.NONE)
    m.holds()
    m.update_lot(0, 6.4)
    m.dispatch(Fault.DELAY)
    m.update_lot(0, 6.6)
    m.dispatch(Fault.DELAY)
    m.holds()
    m.release_held(1)
    m.release_held(0)
    m.holds()
    m.settle(Fault.NONE)
    m.holds()


def counter_offered_twice(m: Any) -> None:
    """Against running parties: the network duplicates from the counter-offer on."""
    m.open_lot_with_a_bid(1000, 0)
    m.holds()
    m.dispatch(Fault.DUPLICATE)
    m.counter_bid(0, None)
    m.holds()
    m.settle(Fault.NONE)
    m.holds()


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ReferenceStack]]:
    """Paired stacks whose buyers send to the tap `scenario run` serves: clean and faulty."""
    made: dict[str, ReferenceStack] = {}
    try:
        for fault in ("", "replays-applied", "stale-versions-applied"):
            folder = tmp_path_factory.mktemp(fault or "clean")
            stack = ReferenceStack(
                folder,
                tap_port=free_port("127.0.0.1"),
                producer_faults=(fault,) if fault else (),
            )
            made[fault] = stack.start()
        yield made
    finally:
        for stack in made.values():
            stack.stop()


def replay(stack: ReferenceStack, scenario: Path, out: Path) -> Result:
    """``lotflow scenario run FILE`` between the stack's portals, through the tap it serves."""
    return run(stack, out, "-v", names=(str(scenario),))


def printed(outcome: Outcome, folder: Path) -> Path:
    path = folder / "found.yaml"
    description = "; ".join(map(str, outcome.violations)) or "a clean run"
    text = print_scenario(outcome.steps, name="Found", description=description, within=WITHIN)
    path.write_text(text, encoding="utf-8")
    return path


def failures(out: Path) -> list[dict[str, Any]]:
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    steps = [s for scenario in result["scenarios"] for s in scenario["steps"]]
    return [f | {"step": s["id"]} for s in steps for f in s["failures"]]


def test_a_replayed_duplicate_is_caught_by_its_acknowledgement_and_passes_when_clean(
    pairs: dict[str, ReferenceStack], tmp_path: Path
) -> None:
    outcome = found_by_the_model(in_process(tmp_path, "replays-applied"), a_copy_arrives_late)
    assert [v.invariant for v in outcome.violations] == ["acknowledged as duplicate"]
    scenario = printed(outcome, tmp_path)
    text = scenario.read_text(encoding="utf-8")
    assert "network: {fault: duplicate}" in text
    assert "release: held" in text
    assert "not replayed" not in text

    red = replay(pairs["replays-applied"], scenario, tmp_path / "red")
    assert red.exit_code == 1, red.output
    (failure,) = failures(tmp_path / "red")
    assert failure["check"] == "webhook"
    assert "lot.published matching" in failure["message"]
    assert 'answered {"/duplicate": true}' in failure["message"]
    assert any("(released) → 200 /duplicate false" in o for o in failure["observed"])

    green = replay(pairs[""], scenario, tmp_path / "green")
    assert green.exit_code == 0, green.output
    assert "the network forwards 1 held copy late: lot.published" in green.output


def test_an_older_update_delivered_last_is_caught_by_the_lot_version_and_passes_when_clean(
    pairs: dict[str, ReferenceStack], tmp_path: Path
) -> None:
    make = in_process(tmp_path, "stale-versions-applied")
    outcome = found_by_the_model(make, an_older_update_arrives_last)
    assert {v.invariant for v in outcome.violations} == {"agree"}
    scenario = printed(outcome, tmp_path)
    assert "network: {fault: delay}" in scenario.read_text(encoding="utf-8")

    red = replay(pairs["stale-versions-applied"], scenario, tmp_path / "red")
    assert red.exit_code == 1, red.output
    messages = [f["message"] for f in failures(tmp_path / "red")]
    assert any(m.startswith("the lot disagrees: buyer says 4") for m in messages), messages

    green = replay(pairs[""], scenario, tmp_path / "green")
    assert green.exit_code == 0, green.output


def test_a_counterexample_found_between_running_parties_replays_red_and_green(
    pairs: dict[str, ReferenceStack], tmp_path: Path
) -> None:
    """``explore --tap``'s pair: the tap's fault meets what the running buyer sends next."""
    faulty = pairs["replays-applied"]
    tap = WebhookTap(forward_to=faulty.producer_url)
    server = ServerThread(tap.app, port=faulty.tap_port or 0).start()
    c = faulty.credentials
    pair = LivePair(
        faulty.buyer_url, faulty.producer_url, c.buyer_token, c.producer_tokens, tap=tap
    )
    try:
        outcome = found_by_the_model(lambda: pair, counter_offered_twice)
    finally:
        server.stop()
        pair.shutdown()
    assert [v.invariant for v in outcome.violations] == ["acknowledged as duplicate"]
    scenario = printed(outcome, tmp_path)
    red = replay(faulty, scenario, tmp_path / "red")
    assert red.exit_code == 1, red.output
    assert any('answered {"/duplicate": true}' in f["message"] for f in failures(tmp_path / "red"))
    green = replay(pairs[""], scenario, tmp_path / "green")
    assert green.exit_code == 0, green.output
