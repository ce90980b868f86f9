"""The two-party model against the reference portals: nothing found on the clean portals, a
planted bug found and printed as a scenario that the loader accepts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lotflow.reference.producer import receivers

from lotflow.cli.running import known_operations
from lotflow.engine.loader import load_scenario
from lotflow.explore.explorer import Budget, explore, explore_within
from lotflow.explore.inprocess import InProcessPair
from lotflow.explore.pair import CONTROLS
from lotflow.explore.printer import print_scenario


def test_the_model_finds_nothing_between_the_clean_reference_portals(
    make_pair: Callable[[], InProcessPair], budget: Budget
) -> None:
    found = explore(make_pair, budget, CONTROLS)
    assert found.error == ""
    assert [str(v) for v in found.violations] == []
    assert found.rules_not_run == []
    assert {"createLot", "submitProducerBid", "settle"} <= set(found.rules_run)


@pytest.fixture
def forgetful_producer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The planted bug, through the receivers' seams: the producer neither de-duplicates
    webhook-ids nor remembers which version of a bid it applied, so a duplicate is applied
    again."""
    monkeypatch.setattr(receivers, "_seen", lambda *_args: False)
    find_mine = receivers.bids.find_mine

    def without_version(conn: Any, buyer_bid: dict[str, Any]) -> dict[str, Any] | None:
        mine = find_mine(conn, buyer_bid)
        return None if mine is None else {**mine, "buyerVersion": None}

    monkeypatch.setattr(receivers.bids, "find_mine", without_version)
    return


@pytest.mark.usefixtures("forgetful_producer")
def test_the_model_finds_a_producer_that_applies_a_duplicate_twice(
    make_pair: Callable[[], InProcessPair], tmp_path: Path
) -> None:
    budget = Budget(examples=30, steps=20, seed=1, shrink_seconds=10)
    found = explore_within(make_pair, budget, CONTROLS, seconds=60)  # rounds of fresh seeds
    assert found.violations, "the planted bug went unnoticed"
    invariants = {v.invariant for v in found.violations}
    assert invariants & {"applied once", "acknowledged as duplicate", "transition", "agree"}
    assert 0 < len(found.steps) <= 3 + 2 * budget.steps  # shrunk for 10 s: ~12 steps when quiet
    text = print_scenario(
        found.steps, name="Found by the model", description="; ".join(map(str, found.violations))
    )
    path = tmp_path / "found.yaml"
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path, known_operations())
    calls = [s for s in found.steps if s.kind == "call"]
    replayed = [step.call.operation for step in scenario.steps if hasattr(step, "call")]
    assert replayed == [s.call for s in calls]
    assert "needs control of the network" not in text  # the tap plays it: network steps
    faults = {s.fault for s in found.steps if s.kind == "network" and s.fault}
    network = [s for s in scenario.steps if s.kind == "network"]
    assert bool(network) == bool(faults - {"deliver"}), text
