"""``lotflow explore`` against two reference portals running on real sockets (port 0)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from lotflow.cli import main
from lotflow.cli.portals import free_port
from lotflow.stack import ReferenceStack


def explore_args(stack: ReferenceStack, out: Path, *extra: str) -> list[str]:
    c = stack.credentials
    return [
        "explore",
        "--buyer",
        stack.buyer_url,
        "--producer",
        stack.producer_url,
        "--buyer-token",
        c.buyer_token,
        *[f"--producer-token={a}={t}" for a, t in c.producer_tokens.items()],
        "--out",
        str(out),
        *extra,
    ]


def test_explore_finds_nothing_between_two_running_reference_portals(
    stack: ReferenceStack, tmp_path: Path
) -> None:
    args = explore_args(stack, tmp_path, "--examples", "3", "--steps", "8")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "✓ no invariant broken" in result.output
    assert "Not run (needs control lotflow does not have here): time passing" in result.output
    report = json.loads((tmp_path / "result.json").read_text())
    assert report["ok"] is True
    assert report["rulesRun"]["createLot"] >= 1
    assert len(report["rulesNotRun"]) == 4
    junit = (tmp_path / "junit.xml").read_text()
    assert 'failures="0"' in junit
    assert 'skipped="4"' in junit
    assert not (tmp_path / "counterexample.yaml").exists()


def test_explore_refuses_an_unreachable_party_with_exit_2(tmp_path: Path) -> None:
    args = [
        "explore",
        "--buyer",
        "http://127.0.0.1:9",
        "--producer",
        "http://127.0.0.1:9",
        "--buyer-token",
        "t",
        "--producer-token",
        "alpha=t",
        "--out",
        str(tmp_path),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "Cannot reach the buyer portal at http://127.0.0.1:9" in result.output


def test_explore_names_a_malformed_producer_token_with_exit_2(tmp_path: Path) -> None:
    args = ["explore", "--buyer", "http://x", "--producer", "http://y", "--buyer-token", "t"]
    result = CliRunner().invoke(main, [*args, "--producer-token", "alpha"])
    assert result.exit_code == 2
    assert "'alpha' is not ALIAS=TOKEN" in result.output


def test_explore_with_the_tap_draws_the_network_faults_and_finds_nothing_on_clean_portals(
    tmp_path: Path,
) -> None:
    port = free_port("127.0.0.1")
    with ReferenceStack(tmp_path / "pair", tap_port=port) as stack:
        args = explore_args(stack, tmp_path / "r", "--tap", "--tap-port", str(port))
        result = CliRunner().invoke(main, [*args, "--examples", "8", "--steps", "12"])
        assert stack.tap.held == []  # each run's network ends with it
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r" / "result.json").read_text())
    drawn = {rule for rule in report["rulesRun"] if rule.startswith("deliver:")}
    assert len(drawn) >= 3, report["rulesRun"]
    assert "redeliver" in report["rulesRun"]
    assert len(report["rulesNotRun"]) == 2  # time passing, restarts


def test_explore_takes_the_pairs_env_file_and_starts_the_tap_it_names(tmp_path: Path) -> None:
    """`lotflow serve pair` prints `lotflow explore --env-file F`: the file gives the parties,
    the tokens and the tap port the pair's buyer sends its webhooks to, so the tap runs."""
    from lotflow.cli.serve import write_env_file

    port = free_port("127.0.0.1")
    with ReferenceStack(tmp_path / "pair", tap_port=port) as stack:
        env_file = tmp_path / "lotflow-pair.env"
        write_env_file(env_file, stack.pair_env(), "a test's pair")
        args = ["explore", "--env-file", str(env_file), "--out", str(tmp_path / "r")]
        result = CliRunner().invoke(
            main, [*args, "--examples", "2", "--steps", "6"], env={"LOTFLOW_PRODUCER_TOKENS": ""}
        )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r" / "result.json").read_text())
    assert len(report["rulesNotRun"]) == 2  # only time passing and restarts: the tap ran
