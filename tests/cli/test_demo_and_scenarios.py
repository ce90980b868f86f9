"""``lotflow demo`` and ``lotflow scenario`` as a person runs them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from lotflow.cli import main
from lotflow.engine.loader import catalogue_files
from lotflow.stack import ReferenceStack
from tests.fixtures.stack import write_scenario


def test_demo_runs_the_catalogue_writes_reports_and_exits_0(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--out", str(tmp_path / "report")], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert f"{len(catalogue_files())} passed, 0 failed" in result.output
    credentials = tmp_path / "report" / "credentials.env"
    assert f"Keys, secrets and operator tokens of this run: {credentials}" in result.output
    assert "PRODUCER_API_KEY=" in credentials.read_text()
    assert "PRODUCER_API_KEY" not in result.output  # no table of secrets on the first screen
    assert "publishLot" not in result.output  # operation ids are engineer detail (--verbose)
    # Each story ends with what the portals show once it ended (read again), not what a step
    # last read: every award leaves the buyer's lot sold, also where no step read it back.
    awarded = "  buyer portal now shows: lot sold, bid accepted, contract draft\n"
    assert result.output.count(awarded) == 5  # 01, 02, 03, 07 and 09
    assert "  buyer portal now shows: lot sold, bid accepted / rejected, contract draft\n" in (
        result.output
    )  # 08: two producers, one award
    assert "  producer portal now shows: lot awarded, bid won, contract draft\n" in result.output
    assert "lot published, bid accepted" not in result.output
    assert "  the contract: contract " in result.output
    for name in ("story.html", "story.md", "junit.xml", "result.json"):
        assert (tmp_path / "report" / name).is_file()
    assert json.loads((tmp_path / "report" / "result.json").read_text())["summary"]["ok"] is True


def test_demo_exits_1_when_a_scenario_fails(tmp_path: Path) -> None:
    bad = write_scenario(
        tmp_path,
        "name: Wrong\nsteps:\n  - id: x\n    title: List lots, expecting a 404\n    actor: "
        "buyer\n    call: listLots\n    expect: {status: 404}\n",
    )
    result = CliRunner().invoke(
        main, ["demo", "--scenario", str(bad), "--out", str(tmp_path / "r")], terminal_width=200
    )
    assert result.exit_code == 1
    assert "0 passed, 1 failed" in result.output


def test_demo_exits_2_on_a_bad_scenario_file_before_starting_anything(tmp_path: Path) -> None:
    bad = write_scenario(tmp_path, "name: Wrong\nsteps:\n  - id: x\n    titel: typo\n")
    result = CliRunner().invoke(main, ["demo", "--scenario", str(bad)])
    assert result.exit_code == 2
    assert "did you mean 'title'?" in result.output
    assert "Starting the reference" not in result.output


def test_scenario_validate_reports_each_file(tmp_path: Path) -> None:
    bad = write_scenario(tmp_path, "name: x\nsteps: []\n", "bad.yaml")
    result = CliRunner().invoke(
        main, ["scenario", "validate", "scenarios/01-happy-path.yaml", str(bad)]
    )
    assert result.exit_code == 2
    assert "✓ scenarios/01-happy-path.yaml" in result.output
    assert "bad.yaml:2" in result.output


def test_scenario_list_prints_names_that_validate_and_run_accept() -> None:
    result = CliRunner().invoke(main, ["scenario", "list"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()[:8]]
    assert names[6] == "07-producer-outage"
    checked = CliRunner().invoke(main, ["scenario", "validate", *names])
    assert checked.exit_code == 0, checked.output
    assert checked.output.count("✓") == 8


def test_scenario_run_between_two_running_portals(tmp_path: Path) -> None:
    with ReferenceStack(tmp_path / "db") as stack:
        c = stack.credentials
        args = [
            "scenario",
            "run",
            "scenarios/04-bid-rejected.yaml",
            "--buyer",
            stack.buyer_url,
            "--producer",
            stack.producer_url,
            "--buyer-token",
            c.buyer_token,
            "--api-key",
            c.api_key,
            "--producer-token",
            f"alpha={c.producer_tokens['alpha']}",
            "--out",
            str(tmp_path / "r"),
        ]
        # The stack's buyer already sends webhooks to the stack's own tap; a scenario without
        # webhook
        # expectations of its own tap is what this exercises: the reachable-check, tokens, reports.
        result = CliRunner().invoke(main, args, terminal_width=200)
    assert "Webhook tap on http://127.0.0.1:" in result.output
    assert (tmp_path / "r" / "junit.xml").is_file()


def test_scenario_run_exits_2_naming_an_unreachable_portal(tmp_path: Path) -> None:
    args = [
        "scenario",
        "run",
        "--buyer",
        "http://127.0.0.1:9",
        "--producer",
        "http://127.0.0.1:9",
        "--buyer-token",
        "t",
        "--api-key",
        "k",
        "--producer-token",
        "alpha=p",
        "--out",
        str(tmp_path / "r"),
    ]
    result = CliRunner().invoke(main, args, terminal_width=200)
    assert result.exit_code == 2
    assert "cannot reach the buyer portal at http://127.0.0.1:9" in result.output


def test_scenario_run_exits_2_on_a_malformed_token_option() -> None:
    args = [
        "scenario",
        "run",
        "--buyer",
        "http://x",
        "--producer",
        "http://y",
        "--buyer-token",
        "t",
        "--api-key",
        "k",
        "--producer-token",
        "alpha",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "'alpha' is not ALIAS=TOKEN" in result.output


def test_serve_refuses_to_start_without_its_secrets(monkeypatch: object) -> None:
    result = CliRunner().invoke(
        main,
        ["serve", "buyer"],
        env={
            "PRODUCER_API_KEY": "",
            "PRODUCER_DASHBOARD_WEBHOOK_SECRET": "",
            "LOTFLOW_BUYER_OPERATORS": "",
        },
    )
    assert result.exit_code == 2
    assert "PRODUCER_API_KEY" in result.output
    assert "PRODUCER_DASHBOARD_WEBHOOK_SECRET" in result.output
    assert "refuses to start" in result.output


def test_demo_with_out_under_a_file_exits_2_before_starting_anything(tmp_path: Path) -> None:
    (tmp_path / "afile.txt").write_text("x")
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "afile.txt" / "sub")])
    assert result.exit_code == 2
    assert f"cannot write the reports there ({tmp_path / 'afile.txt'} is a file)" in result.output
    assert "operator tokens of this run" not in result.output  # no portal was started
    assert "Traceback" not in result.output
