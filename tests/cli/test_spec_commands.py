"""``lotflow spec check`` and ``lotflow spec diagram`` as a person sees them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lotflow import __version__
from lotflow.cli import main
from lotflow.openapi import load_portal_spec
from lotflow.workflow import load_workflow
from tests.fixtures.spec import replace_in


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_spec_check_summarises_operations_events_and_states(runner: CliRunner) -> None:
    result = runner.invoke(main, ["spec", "check"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for text in (
        "submitBid",
        "receiveBidWebhook",
        "bid.counter_offer",
        "/api/webhooks/contracts",
        "buyer.counter_offer",
        "pending_signature",
        "the contract is consistent",
    ):
        assert text in result.output


def test_spec_check_exits_1_and_lists_problems_when_a_check_fails(
    runner: CliRunner, spec_copy: Path
) -> None:
    replace_in(spec_copy / "workflow.yaml", "accepted: won", "accepted: victorious")
    result = runner.invoke(
        main, ["spec", "check", "--spec-dir", str(spec_copy)], terminal_width=200
    )
    assert result.exit_code == 1
    assert "'victorious' is not a producer bid state" in result.output


def test_spec_check_exits_2_with_a_clear_message_on_a_broken_file(
    runner: CliRunner, spec_copy: Path
) -> None:
    (spec_copy / "openapi" / "producer.yaml").write_text("paths: [unclosed\n", encoding="utf-8")
    result = runner.invoke(main, ["spec", "check", "--spec-dir", str(spec_copy)])
    assert result.exit_code == 2
    assert "producer.yaml" in result.output
    assert "Traceback" not in result.output


def test_spec_check_on_a_missing_folder_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["spec", "check", "--spec-dir", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_spec_diagram_prints_mermaid_for_one_machine(runner: CliRunner) -> None:
    result = runner.invoke(main, ["spec", "diagram", "producer.bid"])
    assert result.exit_code == 0
    assert result.output.startswith("stateDiagram-v2")
    assert "counter_offer --> won: accept: true, via respondToCounterOffer" in result.output
    assert "buyer.lot" not in result.output


def test_a_transition_is_labelled_with_its_outcome_from_the_workflow(runner: CliRunner) -> None:
    result = runner.invoke(main, ["spec", "diagram", "buyer.bid"])
    declined = next(
        t
        for t in load_workflow().machine("buyer.bid").transitions
        if t.source == ("countered",) and t.target == "pending" and t.cause.kind == "operation"
    )
    assert declined.when == "accept: false"
    assert "countered --> pending: accept: false, via acceptCounterOffer\n" in result.output


def test_spec_diagram_draws_svg_and_a_self_contained_html_page(runner: CliRunner) -> None:
    svg = runner.invoke(main, ["spec", "diagram", "buyer.bid", "--svg"])
    assert svg.exit_code == 0
    assert svg.output.startswith("<svg ")
    assert "accept: false, via acceptCounterOffer" in svg.output
    page = runner.invoke(main, ["spec", "diagram", "--html"])
    assert page.exit_code == 0
    assert page.output.count("<svg ") == 7
    assert "<script" not in page.output
    assert "default-src 'none'" in page.output
    several = runner.invoke(main, ["spec", "diagram", "--svg"])
    assert several.exit_code == 2
    assert "--svg draws one machine" in several.output


def test_spec_check_never_cuts_a_path_to_fit_80_columns(runner: CliRunner) -> None:
    result = runner.invoke(main, ["spec", "check"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    for spec in (load_portal_spec("buyer"), load_portal_spec("producer")):
        for path in spec["paths"]:
            assert f" {path} " in result.output, path


def test_spec_diagram_markdown_draws_every_machine(runner: CliRunner) -> None:
    result = runner.invoke(main, ["spec", "diagram", "--markdown"])
    assert result.exit_code == 0
    assert result.output.count("```mermaid") == 7


def test_spec_diagram_unknown_machine_exits_2_naming_the_known_ones(runner: CliRunner) -> None:
    result = runner.invoke(main, ["spec", "diagram", "buyer.bidd"])
    assert result.exit_code == 2
    assert "'buyer.bidd'" in result.output
    assert "buyer.bid" in result.output


@pytest.mark.parametrize("args", [[], ["spec"], ["spec", "check"], ["spec", "diagram"]])
def test_every_command_has_help(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(main, [*args, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output
