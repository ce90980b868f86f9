"""The state machines answer legality questions and draw themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotflow.errors import IllegalTransitionError, SpecError
from lotflow.problems import Problem
from lotflow.workflow import check_workflow, load_workflow, mermaid, parse_workflow

WORKFLOW = load_workflow()


def test_a_pending_bid_may_be_accepted_but_an_accepted_one_may_not() -> None:
    bid = WORKFLOW.machine("buyer.bid")
    assert bid.allows("decideBid", "pending", "accepted")
    assert not bid.allows("decideBid", "accepted")


def test_require_raises_a_domain_error_answered_as_a_409_naming_state_and_operation() -> None:
    bid = WORKFLOW.machine("buyer.bid")
    with pytest.raises(IllegalTransitionError) as caught:
        bid.require("counterBid", "accepted", entity_id="6750a2d4e4b0f1a2b3c4d777")
    problem = Problem.from_error(caught.value)
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
    assert "[*] --> pending: counterBid" in text
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


def test_a_transition_names_the_events_its_move_sends() -> None:
    bid = WORKFLOW.machine("buyer.bid")
    accept = bid.transition("decideBid", "pending", "accepted")
    assert accept.emits == ("bid.accepted",)
    assert bid.transition("acceptCounterOffer", "countered", "pending").emits == ()
    lot = WORKFLOW.machine("buyer.lot")
    assert lot.transition("deleteLot", "published", "cancelled").emits == ("lot.deleted",)
    assert lot.transition("deleteLot", "draft", "cancelled").emits == ()
    assert lot.transition("createLot", None).target == "draft"
    with pytest.raises(IllegalTransitionError, match="not created yet"):
        lot.transition("publishLot", None)


def test_open_states_and_sources_come_from_the_machine() -> None:
    bid = WORKFLOW.machine("buyer.bid")
    assert bid.open_states == ("pending", "countered")
    assert bid.sources("deleteLot", "withdrawn") == ("pending", "countered")
    assert WORKFLOW.machine("producer.bid").sources("lot.deleted", "withdrawn") == (
        "submitted",
        "counter_offer",
    )


def test_a_move_made_by_two_transitions_must_emit_the_same_events() -> None:
    data = {
        "machines": {
            "buyer.lot": {
                "portal": "buyer",
                "entity": "lot",
                "states": ["draft", "published"],
                "initial": "draft",
                "transitions": [
                    {"from": [], "to": "draft", "cause": {"operation": "createLot"}},
                    {
                        "from": ["draft"],
                        "to": "published",
                        "cause": {"operation": "publishLot"},
                        "emits": ["lot.published"],
                    },
                    {
                        "from": ["draft"],
                        "to": "published",
                        "cause": {"operation": "publishLot"},
                        "when": "again",
                    },
                ],
            }
        }
    }
    problems = check_workflow(
        parse_workflow(data), {"buyer": ["createLot", "publishLot"]}, ["lot.published"]
    )
    assert problems == [
        "buyer.lot: publishLot from draft to published emits ['lot.published'] in one "
        "transition and [] in another"
    ]


def test_a_workflow_file_with_a_key_written_twice_is_refused_naming_file_and_line(
    tmp_path: Path,
) -> None:
    source = tmp_path / "workflow.yaml"
    source.write_text("machines: {}\nmapping: {}\nmachines: {}\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"workflow\.yaml is not valid YAML at line 3") as caught:
        load_workflow(source)
    assert "'machines' appears twice in one mapping (first on line 1)" in str(caught.value)


def test_an_unreadable_workflow_file_is_a_spec_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"Cannot read workflow file .*absent\.yaml"):
        load_workflow(tmp_path / "absent.yaml")
