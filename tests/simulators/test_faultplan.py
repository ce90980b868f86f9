"""Fault plans: checked against the shipped schema with errors a person can act on, and
reproducible (the same seed and traffic give the same faults)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lotflow.simulators import (
    ANSWER_FAULTS,
    WEBHOOK_FAULTS,
    FaultPlanError,
    load_fault_plan,
    parse_fault_plan,
    plan_from_flags,
)
from lotflow.simulators.faults import PARAMETERS, fault_plan_schema


def error_of(text: str) -> str:
    with pytest.raises(FaultPlanError) as caught:
        parse_fault_plan(text, "plan.yaml")
    return str(caught.value)


def test_a_misspelt_key_names_the_line_and_the_closest_key() -> None:
    text = "webhooks:\n  - fault: duplicate\n    copise: 3\n"
    assert (
        error_of(text) == "plan.yaml:3: unknown key 'copise' in webhooks[0]; did you mean 'copies'?"
    )


def test_a_misspelt_fault_names_the_closest_fault() -> None:
    message = error_of("answers:\n  - fault: unavailabel\n")
    assert message.startswith(
        'plan.yaml:2: answers[0].fault is "unavailabel"; expected one of: status,'
    )
    assert message.endswith("did you mean 'unavailable'?")


def test_a_top_level_key_that_does_not_exist() -> None:
    assert error_of("seed: 1\nwebhoks: []\n") == (
        "plan.yaml:2: unknown key 'webhoks' at the top level; did you mean 'webhooks'?"
    )


def test_a_wrong_type_says_what_was_expected() -> None:
    assert error_of("answers:\n  - fault: throttle\n    retry_after: soon\n") == (
        'plan.yaml:3: answers[0].retry_after is "soon"; expected a whole number'
    )


def test_a_parameter_of_another_fault_is_refused() -> None:
    assert error_of("webhooks:\n  - fault: delay\n    copies: 2\n") == (
        "plan.yaml:3: webhooks[0] has 'copies', which does not apply to fault 'delay'; "
        "it applies to: duplicate"
    )


def test_every_problem_is_reported_at_once() -> None:
    message = error_of("webhooks:\n  - fault: nope\n  - {}\n")
    assert "plan.yaml:2:" in message
    assert "plan.yaml:3: webhooks[1] is missing the required key 'fault'" in message


def test_bad_yaml_and_an_unreadable_file(tmp_path: Path) -> None:
    assert error_of("webhooks: [\n").startswith("plan.yaml:2: not valid YAML")
    with pytest.raises(FaultPlanError, match="cannot read the fault plan"):
        load_fault_plan(tmp_path / "missing.yaml")


def test_flags_build_the_same_rules_and_refuse_bad_ones() -> None:
    plan = plan_from_flags(
        ["duplicate:copies=3,event=bid.accepted", "unavailable:times=2,retry_after=1"], seed=5
    )
    assert (
        plan.to_dict()
        == parse_fault_plan(
            "seed: 5\nwebhooks:\n  - {fault: duplicate, copies: 3, event: bid.accepted}\n"
            "answers:\n  - {fault: unavailable, times: 2, retry_after: 1}\n"
        ).to_dict()
    )
    with pytest.raises(FaultPlanError, match="unknown fault 'dupliate'; did you mean 'duplicate'"):
        plan_from_flags(["dupliate"])
    with pytest.raises(FaultPlanError, match="'copies' is not key=value"):
        plan_from_flags(["duplicate:copies"])
    with pytest.raises(FaultPlanError, match=r"--fault 'delay:ms=-5': webhooks\[0\]\.ms is -5"):
        plan_from_flags(["delay:ms=-5"])


def choices(seed: int, count: int = 40) -> list[bool]:
    plan = parse_fault_plan(
        f"seed: {seed}\nwebhooks:\n  - {{fault: duplicate, times: 0, probability: 0.5}}\n"
    )
    chooser = plan.chooser()
    return [bool(chooser.webhook_faults("lot.published")) for _ in range(count)]


def test_the_same_seed_gives_the_same_faults() -> None:
    assert choices(7) == choices(7)
    assert choices(7) != choices(8)
    assert 5 < sum(choices(7)) < 35


def test_skip_times_and_matching() -> None:
    plan = parse_fault_plan(
        "webhooks:\n  - {fault: drop, event: bid.accepted, skip: 1, times: 2}\n"
    )
    chooser = plan.chooser()
    fired = [bool(chooser.webhook_faults(e)) for e in ["lot.published"] + ["bid.accepted"] * 4]
    assert fired == [False, False, True, True, False]


def test_answer_rules_match_an_operation_or_an_event() -> None:
    plan = parse_fault_plan(
        "answers:\n  - {fault: error, operation: submitBid, times: 0}\n"
        "  - {fault: gone, event: lot.deleted}\n"
    )
    chooser = plan.chooser()
    assert chooser.answer_fault("listExternalLots", None) is None
    assert chooser.answer_fault("submitBid", None).fault == "error"  # type: ignore[union-attr]
    assert chooser.answer_fault("receiveLotWebhook", "lot.deleted").fault == "gone"  # type: ignore[union-attr]


def test_the_schema_and_the_code_name_the_same_faults_and_parameters() -> None:
    defs = fault_plan_schema()["$defs"]
    assert defs["webhookRule"]["properties"]["fault"]["enum"] == list(WEBHOOK_FAULTS)
    assert defs["answerRule"]["properties"]["fault"]["enum"] == list(ANSWER_FAULTS)
    params = set(defs["webhookRule"]["properties"]) | set(defs["answerRule"]["properties"])
    assert params - {"fault", "event", "operation", "skip", "times", "probability"} == set(
        PARAMETERS
    )
