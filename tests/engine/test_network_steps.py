"""Network steps in scenario files: what a good one becomes, what a wrong one looks like to its
author (schema and spec driven: faults from the tap, pointers from the webhook payload and the
receiver's answer), and the preflight refusing them without a tap."""

from __future__ import annotations

from pathlib import Path

import httpx
from click.testing import CliRunner

from lotflow.cli import main
from lotflow.cli.running import known_operations
from lotflow.clock import SystemClock
from lotflow.engine.loader import load_scenario, scenario_schema
from lotflow.engine.model import NetworkStep
from lotflow.engine.parties import Parties
from lotflow.engine.preflight import Preflight
from lotflow.engine.tap import NetworkFault
from tests.fixtures.stack import write_scenario

OPENING = """\
name: Network steps
steps:
  - id: create-lot
    title: The buyer drafts a lot
    actor: buyer
    call: createLot
    body: {title: "Lot ${run_id}", deliveryDate: "${now+7d}", volume: {amount: 1000, unit: gallons}}
    expect: {status: 201}
    save: {lot_id: /lot/_id}
"""
GOOD = """\
  - id: duplicates
    title: The network delivers every webhook twice
    network: {fault: duplicate}
  - id: back-to-normal
    title: The network delivers normally again
    network: {fault: deliver}
  - id: release
    title: The copy arrives late
    network: {release: held, event: lot.published, match: {/lot/_id: "${lot_id}"}, order: reversed}
    webhooks:
      - {event: lot.published, match: {/lot/_id: "${lot_id}"}, answer: {/duplicate: true}}
"""


def validate(tmp_path: Path, text: str) -> tuple[int, str]:
    path = write_scenario(tmp_path, OPENING + text)
    result = CliRunner().invoke(main, ["scenario", "validate", str(path)], terminal_width=300)
    return result.exit_code, result.output


def test_the_schema_offers_exactly_the_taps_faults() -> None:
    offered = scenario_schema()["$defs"]["network"]["properties"]["fault"]["enum"]
    assert offered == [fault.value for fault in NetworkFault]


def test_a_network_step_becomes_a_fault_or_a_release(tmp_path: Path) -> None:
    scenario = load_scenario(write_scenario(tmp_path, OPENING + GOOD), known_operations())
    _, duplicates, normal, release = scenario.steps
    assert isinstance(duplicates, NetworkStep)
    assert isinstance(release, NetworkStep)
    assert (duplicates.kind, duplicates.actor, duplicates.fault) == (
        "network",
        "lotflow",
        "duplicate",
    )
    assert normal.fault == "deliver"  # type: ignore[union-attr]
    assert (release.release, release.event, release.reversed) == (True, "lot.published", True)
    assert release.match == {"/lot/_id": "${lot_id}"}
    assert release.checks.webhooks[0].answer == {"/duplicate": True}
    assert validate(tmp_path, GOOD)[0] == 0


def test_a_misspelt_fault_is_named_with_the_closest_one(tmp_path: Path) -> None:
    code, output = validate(tmp_path, "  - {id: dup, title: Twice, network: {fault: duplicat}}\n")
    assert code == 2
    assert "step 'dup', network.fault is \"duplicat\"" in output
    assert "did you mean 'duplicate'?" in output


def test_a_fault_and_a_release_at_once_or_neither_is_refused(tmp_path: Path) -> None:
    both = "  - {id: both, title: Both, network: {fault: drop, release: held}}\n"
    code, output = validate(tmp_path, both)
    assert code == 2
    assert "must either set a fault" in output
    code, output = validate(tmp_path, "  - {id: none, title: None, network: {}}\n")
    assert code == 2
    assert "must either set a fault" in output
    code, output = validate(
        tmp_path, "  - {id: odd, title: Odd, network: {fault: drop, event: lot.published}}\n"
    )
    assert code == 2
    assert "'event' belongs to a release" in output


def test_pointers_are_checked_against_the_payload_and_the_receivers_answer(
    tmp_path: Path,
) -> None:
    code, output = validate(
        tmp_path,
        """\
  - id: release
    title: The copy arrives late
    network: {release: held, event: lot.published, match: {/lot/idd: "${lot_id}"}}
    webhooks:
      - {event: lot.published, answer: {/duplicated: true}}
""",
    )
    assert code == 2
    assert "/lot/idd is not in the lot.published payload" in output
    assert "/duplicated is not in the receiver's answer to lot.published" in output
    assert "duplicate" in output  # the answer's fields are listed


def test_a_variable_no_step_saved_in_a_release_match_is_named(tmp_path: Path) -> None:
    code, output = validate(
        tmp_path,
        '  - {id: r, title: R, network: {release: held, match: {/lot/_id: "${lot_idd}"}}}\n',
    )
    assert code == 2
    assert "${lot_idd} is not saved by an earlier step" in output


def test_the_preflight_refuses_a_network_step_without_the_tap(tmp_path: Path) -> None:
    scenario = load_scenario(write_scenario(tmp_path, OPENING + GOOD), known_operations())
    parties = Parties("http://b.test", "http://p.test", "t", "k", {"alpha": "a"}, tap=None)
    preflight = Preflight(parties, {}, {}, httpx.Client(), SystemClock())
    (problem,) = preflight._tap_needed([scenario])
    assert problem.setting == "the webhook tap"
    assert "step 'duplicates' is a network step: it needs lotflow's webhook tap" in str(problem)
