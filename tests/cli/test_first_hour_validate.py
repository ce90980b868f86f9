"""Issue 15, `scenario validate`: a file that would fail at run time fails validation, named by
file, line and what the spec allows; an empty folder is not a pass."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from lotflow.cli import main
from tests.fixtures.stack import write_scenario

OPENING = """\
name: Static checks
steps:
  - id: create-lot
    title: The buyer drafts a lot
    actor: buyer
    call: createLot
    body: {title: "Lot ${run_id}", deliveryDate: "${now+7d}", volume: {amount: 1000, unit: gallons}}
    expect: {status: 201, body: {/lot/status: draft}}
    save: {lot_id: /lot/_id}
"""


def validate(tmp_path: Path, text: str) -> tuple[int, str]:
    path = write_scenario(tmp_path, OPENING + text)
    result = CliRunner().invoke(main, ["scenario", "validate", str(path)])
    return result.exit_code, result.output


def test_a_file_that_holds_against_the_spec_passes(tmp_path: Path) -> None:
    code, output = validate(
        tmp_path,
        """\
  - id: publish
    title: The buyer publishes it
    actor: buyer
    call: publishLot
    path: {lotId: "${lot_id}"}
    webhooks:
      - {event: lot.published, match: {/lot/_id: "${lot_id}"}}
    state:
      - {party: buyer, call: getLot, path: {lotId: "${lot_id}"}, expect: {/lot/status: published}}
""",
    )
    assert (code, output.count("✓")) == (0, 1), output


def test_a_path_parameter_the_operation_does_not_have_is_named_with_the_ones_it_has(
    tmp_path: Path,
) -> None:
    code, output = validate(
        tmp_path,
        """\
  - id: publish
    title: The buyer publishes it
    actor: buyer
    call: publishLot
    path: {bidId: "${lot_id}"}
""",
    )
    assert code == 2
    assert "story.yaml:14: step 'publish': publishLot has no path parameter 'bidId'" in output
    assert "(its path parameters: lotId)" in output
    assert "publishLot needs the path parameter 'lotId'" in output


def test_an_undefined_variable_is_named_with_what_was_saved(tmp_path: Path) -> None:
    code, output = validate(
        tmp_path,
        """\
  - id: publish
    title: The buyer publishes it
    actor: buyer
    call: publishLot
    path: {lotId: "${lot}"}
""",
    )
    assert code == 2
    assert "step 'publish': ${lot} is not saved by an earlier step" in output
    assert "(saved so far: lot_id;" in output


def test_a_pointer_into_a_field_the_response_schema_lacks_is_named(tmp_path: Path) -> None:
    code, output = validate(
        tmp_path,
        """\
  - id: publish
    title: The buyer publishes it
    actor: buyer
    call: publishLot
    path: {lotId: "${lot_id}"}
    expect: {body: {/lot/state: published}}
    webhooks:
      - {event: lot.published, match: {/lot/identifier: "${lot_id}"}}
""",
    )
    assert code == 2
    assert "/lot/state is not in the response of publishLot: /lot has no field 'state'" in output
    assert "/lot/identifier is not in the lot.published payload: /lot has no field" in output


def test_an_empty_folder_is_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["scenario", "validate", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "the folder holds no scenario files" in result.output
