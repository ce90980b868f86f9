"""Scenario files: what a typo or a wrong operation looks like to the person who wrote it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotflow.engine.loader import catalogue_files, load_scenario
from lotflow.errors import ScenarioFileError
from tests.fixtures.stack import write_scenario

GOOD = """\
name: A tiny story
steps:
  - id: create-lot
    title: The buyer drafts a lot
    actor: buyer
    call: createLot
    body: {title: t}
    expect: {status: 201}
    save: {lot_id: /lot/_id}
  - id: down
    title: The producer goes offline
    outage: {party: producer, down: true}
"""


def test_a_valid_file_becomes_a_scenario_with_step_lines(
    tmp_path: Path, operations_known: dict[str, str]
) -> None:
    scenario = load_scenario(write_scenario(tmp_path, GOOD), operations_known)
    assert [s.id for s in scenario.steps] == ["create-lot", "down"]
    assert [s.kind for s in scenario.steps] == ["call", "outage"]
    assert scenario.steps[0].line == 3
    assert scenario.steps[0].expect_status == (201,)
    assert scenario.producers == ("alpha",)


def test_a_misspelt_key_names_file_line_key_and_the_closest_valid_one(
    tmp_path: Path, operations_known: dict[str, str]
) -> None:
    path = write_scenario(tmp_path, GOOD.replace("    save:", "    webhoks: []\n    save:"))
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path, operations_known)
    message = str(caught.value)
    assert f"{path}:9:" in message
    assert "'webhoks'" in message
    assert "did you mean 'webhooks'?" in message


def test_a_misspelt_top_level_key_is_found_too(
    tmp_path: Path, operations_known: dict[str, str]
) -> None:
    path = write_scenario(tmp_path, "nmae: x\n" + GOOD)
    with pytest.raises(
        ScenarioFileError, match=r":1: unknown key 'nmae' at the top level; did you mean 'name'\?"
    ):
        load_scenario(path, operations_known)


def test_an_unknown_operation_suggests_the_closest_one(
    tmp_path: Path, operations_known: dict[str, str]
) -> None:
    path = write_scenario(tmp_path, GOOD.replace("call: createLot", "call: createLots"))
    with pytest.raises(
        ScenarioFileError,
        match=r":3: step 'create-lot' calls 'createLots'.*Did you mean 'createLot'\?",
    ):
        load_scenario(path, operations_known)


def test_a_step_must_be_exactly_one_kind(tmp_path: Path, operations_known: dict[str, str]) -> None:
    path = write_scenario(
        tmp_path,
        GOOD.replace(
            "    outage: {party: producer, down: true}",
            "    outage: {party: producer, down: true}\n    actor: buyer\n    call: getLot",
        ),
    )
    with pytest.raises(ScenarioFileError, match=r":10: in steps\[1\]"):
        load_scenario(path, operations_known)


def test_duplicate_step_ids_are_refused(tmp_path: Path, operations_known: dict[str, str]) -> None:
    path = write_scenario(tmp_path, GOOD.replace("id: down", "id: create-lot"))
    with pytest.raises(ScenarioFileError, match="'create-lot' is used twice"):
        load_scenario(path, operations_known)


def test_an_undeclared_producer_alias_is_refused(
    tmp_path: Path, operations_known: dict[str, str]
) -> None:
    path = write_scenario(tmp_path, GOOD.replace("actor: buyer", "actor: producer:gamma"))
    with pytest.raises(ScenarioFileError, match="producer 'gamma'"):
        load_scenario(path, operations_known)


def test_broken_yaml_names_the_line(tmp_path: Path, operations_known: dict[str, str]) -> None:
    path = write_scenario(tmp_path, GOOD + "  - id: [unclosed\n")
    with pytest.raises(ScenarioFileError, match=r"story.yaml:1[45]: not valid YAML"):
        load_scenario(path, operations_known)


@pytest.mark.parametrize("path", catalogue_files(), ids=lambda p: p.stem)
def test_every_catalogue_file_loads(path: Path, operations_known: dict[str, str]) -> None:
    scenario = load_scenario(path, operations_known)
    assert scenario.steps
