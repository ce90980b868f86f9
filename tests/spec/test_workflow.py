"""The state machines answer legality questions and draw themselves."""

from __future__ import annotations

import pytest

from lotflow.errors import SpecError
from lotflow.problems import Problem
from lotflow.workflow import load_workflow, mermaid, parse_workflow

WORKFLOW = load_workflow()


def test_a_pending_bid_may_be_accepted_but_an_accepted_one_may_not() -> None:
    bid = WORKFLOW.machine("buyer.bid")
    assert bid.allows("decideBid", "pending", "accepted")
    assert not bid.allows("decideBid", "accepted")


def test_require_raises_a_409_problem_naming_state_and_operation() -> None:
    bid = WORKFLOW.machine("buyer.bid")
    with pytest.raises(Problem) as caught:
        bid.require("counterBid", "accepted", entity_id="6750a2d4e4b0f1a2b3c4d777")
    problem = caught.value
    assert problem.status == 409
    assert problem.code == "illegal_transition"
    assert problem.extra["currentState"] == "accepted"
    assert problem.extra["operation"] == "counterBid"
    assert "6750a2d4e4b0f1a2b3c4d777" in (problem.detail or "")


def test_creation_transitions_are_distinguished_from_moves() -> None:
    lot = WORKFLOW.machine("buyer.lot")
    assert lot.targets("createLot", None) == {"draft"}
    assert lot.targets("createLot", "draft") == set()


def test_the_mapping_gives_producer_statuses() -> None:
    assert WORKFLOW.producer_status("bid", "countered") == "counter_offer"
    assert WORKFLOW.producer_status("lot", "draft") is None


def test_mermaid_draws_every_transition_once_and_marks_terminal_states() -> None:
    text = mermaid(WORKFLOW.machine("buyer.counter_offer"))
    assert text.startswith("stateDiagram-v2")
    assert "[*] --> pending: counterBid ⇒ bid.counter_offer" in text
    assert "accepted --> [*]" in text
    lines = text.splitlines()
    assert len(lines) == len(set(lines))


def test_an_unknown_machine_is_a_spec_error_listing_the_known_ones() -> None:
    with pytest.raises(SpecError, match=r"buyer\.bid"):
        WORKFLOW.machine("buyer.bidd")


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"machines": {"x": {"portal": "buyer"}}},
        {
            "machines": {
                "x": {
                    "portal": "b",
                    "entity": "e",
                    "states": ["a"],
                    "initial": "a",
                    "transitions": [{"from": [], "to": "a", "cause": {"rocket": "go"}}],
                }
            }
        },
    ],
)
def test_a_malformed_workflow_is_a_spec_error(data: object) -> None:
    with pytest.raises(SpecError):
        parse_workflow(data)
