"""Scenario files: the model a good file becomes, and what a mistake looks like to its author
(file, line, the bad key or value, and the closest valid one)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jsonschema_rs
import pytest

from lotflow.engine.loader import load_catalogue, load_scenario, scenario_schema
from lotflow.engine.model import CallStep, OutageStep, WaitStep
from lotflow.errors import LotflowError, ScenarioFileError
from tests.engine.fakes import KNOWN

Write = Callable[..., Path]

GOOD = """\
name: A tiny story
description: |
  Two lines of
  description.
tags: [core]
steps:
  - id: create-lot
    title: The buyer drafts a lot
    actor: buyer
    call: createLot
    body: {title: "Lot ${run_id}", delivery: {deliveryDate: 2026-05-01}, on: true}
    expect: {status: 201, body: {/lot/status: draft}}
    save: {lot_id: /lot/_id}
  - id: publish
    title: The buyer publishes it
    actor: buyer
    call: publishLot
    path: {lotId: "${lot_id}"}
    webhooks:
      - {event: lot.published, match: {/lot/_id: "${lot_id}"}, within: 500ms, count: 1}
    state:
      - {party: producer, call: getMarketplaceLot, path: {lotId: "${lot_id}"},
         expect: {/lot/status: open}}
    agree:
      - entity: lot
        buyer: {call: getLot, path: {lotId: "${lot_id}"}, at: /lot/status}
        producer: {call: getMarketplaceLot, path: {lotId: "${lot_id}"}, at: /lot/status}
        within: 1.5s
  - id: down
    title: The producer goes offline
    outage: {party: producer, down: true}
  - id: settle
    title: Everything settles
    wait:
      state:
        - {party: buyer, call: getLot, path: {lotId: "${lot_id}"}, status: [200, 304],
           expect: {/lot/status: published}, within: 1m}
"""


def problem(write: Write, text: str) -> tuple[Path, str]:
    path = write(text)
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path, KNOWN)
    return path, str(caught.value)


def test_a_valid_file_becomes_a_scenario_of_typed_steps(write: Write) -> None:
    scenario = load_scenario(write(GOOD), KNOWN)
    create, publish, down, settle = scenario.steps
    assert isinstance(create, CallStep)
    assert isinstance(publish, CallStep)
    assert isinstance(down, OutageStep)
    assert isinstance(settle, WaitStep)
    assert [s.kind for s in scenario.steps] == ["call", "call", "outage", "wait"]
    assert [s.line for s in scenario.steps] == [7, 14, 29, 32]
    assert create.expect.status == (201,)
    assert create.save == {"lot_id": "/lot/_id"}
    assert publish.expect.status == ()  # nothing said: any 2xx
    assert publish.checks.webhooks[0].within == 0.5
    assert publish.checks.webhooks[0].count == 1
    assert publish.checks.state[0].within == 10.0  # the default deadline
    assert publish.checks.agree[0].within == 1.5
    assert down.down is True
    assert settle.checks.state[0].status == (200, 304)
    assert settle.checks.state[0].within == 60.0
    assert scenario.producers == ("alpha",)
    assert scenario.tags == ("core",)
    assert scenario.description == "Two lines of description."
    assert scenario.slug == "story"


def test_yaml_dates_and_boolean_looking_keys_stay_as_written(write: Write) -> None:
    step = load_scenario(write(GOOD), KNOWN).steps[0]
    assert isinstance(step, CallStep)
    assert step.call.body["delivery"] == {"deliveryDate": "2026-05-01"}
    assert step.call.body["on"] is True


def test_a_misspelt_step_key_names_file_line_key_and_the_closest_valid_one(write: Write) -> None:
    path, message = problem(write, GOOD.replace("    webhooks:", "    webhoks:"))
    assert message == (
        f"{path}:19: unknown key 'webhoks' in step 'publish'; did you mean 'webhooks'?"
    )


def test_a_misspelt_top_level_key_is_found_too(write: Write) -> None:
    path, message = problem(write, "nmae: x\n" + GOOD.replace("name: A tiny story\n", ""))
    assert message.startswith(
        f"{path}:1: unknown key 'nmae' at the top level; did you mean 'name'?"
    )
    assert "missing the required key 'name'" not in message  # the suggestion already says it


def test_a_misspelt_key_deep_inside_a_check_names_where_it_is(write: Write) -> None:
    path, message = problem(write, GOOD.replace("{event: lot.published", "{evnt: lot.published"))
    assert (
        f"{path}:20: unknown key 'evnt' in step 'publish', webhooks[0]; did you mean 'event'?"
        in message
    )


def test_every_problem_of_a_file_is_reported_at_once(write: Write) -> None:
    text = GOOD.replace("    webhooks:", "    webhoks:")
    _, message = problem(write, text.replace("    save:", "    sav:"))
    assert len(message.splitlines()) == 2
    assert "did you mean 'save'?" in message
    assert "did you mean 'webhooks'?" in message


def test_an_unknown_operation_suggests_the_closest_operation_id(write: Write) -> None:
    path, message = problem(write, GOOD.replace("call: publishLot", "call: publishLott"))
    assert message == (
        f"{path}:17: step 'publish', call: 'publishLott' is not an operationId of the buyer or "
        "producer spec; did you mean 'publishLot'?"
    )


def test_operations_inside_checks_are_checked_too(write: Write) -> None:
    _, message = problem(
        write, GOOD.replace("producer: {call: getMarketplaceLot", "producer: {call: getMarketLot")
    )
    assert ":27:" in message
    assert "did you mean 'getMarketplaceLot'?" in message


def test_step_ids_must_be_unique(write: Write) -> None:
    path, message = problem(write, GOOD.replace("id: publish\n", "id: create-lot\n"))
    assert message == (
        f"{path}:14: the step id 'create-lot' is used twice (first on line 7); "
        "step ids must be unique within a file"
    )


def test_a_key_written_twice_in_one_mapping_is_an_error_not_silently_dropped(write: Write) -> None:
    path, message = problem(
        write,
        GOOD.replace(
            "    save: {lot_id: /lot/_id}\n", "    save: {a: /x}\n    save: {lot_id: /lot/_id}\n"
        ),
    )
    assert message.startswith(f"{path}:14: not valid YAML: the key 'save' appears twice")
    assert "first on line 13" in message


def test_a_step_of_two_kinds_is_refused_naming_both(write: Write) -> None:
    _, message = problem(
        write,
        GOOD.replace(
            "    outage: {party: producer, down: true}",
            "    outage: {party: producer, down: true}\n    wait: {webhooks: []}",
        ),
    )
    assert "step 'down' must be exactly one kind of step: it has 'outage' and 'wait'" in message


def test_a_step_of_no_kind_says_what_to_add(write: Write) -> None:
    _, message = problem(write, GOOD.replace("    outage: {party: producer, down: true}\n", ""))
    assert ":29: step 'down' must be exactly one kind of step: it has none" in message


def test_a_call_without_an_actor_says_a_call_step_needs_both(write: Write) -> None:
    _, message = problem(
        write, GOOD.replace("    actor: buyer\n    call: createLot", "    call: createLot")
    )
    assert "step 'create-lot' has 'call' but no 'actor'" in message


def test_a_wrong_enum_value_suggests_the_closest(write: Write) -> None:
    _, message = problem(write, GOOD.replace("entity: lot", "entity: lots"))
    wanted = "agree[0].entity is \"lots\"; expected one of: lot, bid, contract; did you mean 'lot'?"
    assert f"step 'publish', {wanted}" in message


def test_a_bad_duration_says_what_a_duration_looks_like(write: Write) -> None:
    _, message = problem(write, GOOD.replace("within: 500ms", "within: 5 seconds"))
    wanted = 'webhooks[0].within is "5 seconds", which is not a duration such as 500ms'
    assert f":20: step 'publish', {wanted}" in message


def test_a_match_key_that_is_not_a_pointer_is_named(write: Write) -> None:
    _, message = problem(
        write, GOOD.replace('match: {/lot/_id: "${lot_id}"}', 'match: {lot/_id: "${lot_id}"}')
    )
    assert "the key 'lot/_id' in step 'publish', webhooks[0].match is not a JSON pointer" in message


def test_the_buyer_cannot_call_a_producer_operation(write: Write) -> None:
    text = GOOD.replace(
        "    actor: buyer\n    call: publishLot", "    actor: buyer\n    call: getProducerBid"
    )
    _, message = problem(
        write,
        text.replace('path: {lotId: "${lot_id}"}\n    webhooks', "path: {bidId: x}\n    webhooks"),
    )
    assert "the buyer cannot call 'getProducerBid', an operation of the producer portal" in message


def test_each_side_of_an_agreement_reads_its_own_portal(write: Write) -> None:
    _, message = problem(
        write, GOOD.replace("buyer: {call: getLot", "buyer: {call: getMarketplaceLot")
    )
    assert "the buyer side of an agreement must read the buyer portal" in message


def test_a_producer_alias_must_be_declared(write: Write) -> None:
    _, message = problem(
        write, GOOD.replace("{party: producer, call", "{party: 'producer:beta', call")
    )
    assert "acts as producer 'beta', which is not among the scenario's producers (alpha)" in message
    assert load_scenario(
        write(
            "producers: [alpha, beta]\n"
            + GOOD.replace("{party: producer, call", "{party: 'producer:beta', call")
        ),
        KNOWN,
    )


def test_checks_of_a_wait_step_belong_under_wait(write: Write) -> None:
    _, message = problem(write, GOOD.replace("    wait:\n", "    webhooks: []\n    wait:\n"))
    assert (
        "step 'settle' is a wait step: 'webhooks' does not belong here (put it under 'wait:')"
        in message
    )


def test_call_keys_do_not_belong_to_an_outage_step(write: Write) -> None:
    _, message = problem(
        write,
        GOOD.replace(
            "    outage: {party: producer, down: true}",
            "    outage: {party: producer, down: true}\n    body: {}",
        ),
    )
    assert (
        "step 'down' is an outage step: 'body' does not belong here (only a call step has it)"
        in message
    )


def test_a_built_in_variable_cannot_be_saved_over(write: Write) -> None:
    _, message = problem(
        write, GOOD.replace("save: {lot_id: /lot/_id}", "save: {run_id: /lot/_id}")
    )
    assert "saves 'run_id', which is a built-in variable" in message


def test_broken_yaml_names_the_line(write: Write) -> None:
    path, message = problem(write, "name: x\nsteps:\n  - id: [unclosed\n")
    assert message.startswith(f"{path}:4: not valid YAML:")


def test_an_empty_file_says_what_a_scenario_needs(write: Write) -> None:
    path, message = problem(write, "# nothing yet\n")
    assert message == f"{path}:1: the file is empty; a scenario needs 'name' and 'steps'"


def test_a_missing_file_is_a_scenario_file_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioFileError, match="cannot read the scenario file"):
        load_scenario(tmp_path / "absent.yaml", KNOWN)


def test_scenario_file_errors_are_lotflow_errors() -> None:
    assert issubclass(ScenarioFileError, LotflowError)


def test_a_catalogue_folder_loads_every_file_in_name_order(write: Write, tmp_path: Path) -> None:
    write(GOOD.replace("A tiny story", "Second"), "b.yaml")
    write(GOOD, "a.yaml")
    assert [s.name for s in load_catalogue(tmp_path, KNOWN)] == ["A tiny story", "Second"]


def test_a_catalogue_reports_the_problems_of_every_bad_file_together(
    write: Write, tmp_path: Path
) -> None:
    first = write(GOOD.replace("    save:", "    sav:"), "a.yaml")
    second = write(GOOD.replace("call: publishLot", "call: publish"), "b.yaml")
    with pytest.raises(ScenarioFileError) as caught:
        load_catalogue([first, second], KNOWN)
    assert f"{first}:13:" in str(caught.value)
    assert f"{second}:17:" in str(caught.value)


def test_two_scenarios_with_one_name_are_refused(write: Write, tmp_path: Path) -> None:
    write(GOOD, "a.yaml")
    second = write(GOOD, "b.yaml")
    with pytest.raises(
        ScenarioFileError, match=f"{second}:1: the scenario name 'A tiny story' is also used by"
    ):
        load_catalogue(tmp_path, KNOWN)


def test_the_schema_is_valid_json_schema_and_accepts_the_documented_example(write: Write) -> None:
    assert jsonschema_rs.meta.is_valid(scenario_schema())
    example = (Path(__file__).parents[2] / "scenarios" / "FORMAT.md").read_text(encoding="utf-8")
    block = example.split("## A whole file\n\n```yaml\n", 1)[1].split("```", 1)[0]
    known = {**KNOWN, "publishLot": "buyer"}
    assert load_scenario(write(block), known).steps[0].id == "publish-lot"
