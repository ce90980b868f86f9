"""``lotflow verify``: exit codes, reports, baseline and score gate, as a team and CI use them
(the reference buyer on a free port; the fuzzing checks are skipped where they are not the
point, to keep the run short)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lotflow.cli import main
from tests.reference.buyer.portal import API_KEY, TOKENS
from tests.verify.portal import junit_root, serve_buyer

FAST = ["--skip", "buyer.api.conformance", "--skip", "buyer.api.stateful"]
OPERATOR = ["--buyer-header", f"Authorization: Bearer {TOKENS['a']}"]


def reports(out: Path) -> list[str]:
    """The options that write every report into ``out``."""
    return [
        "--junit",
        str(out / "j.xml"),
        "--json",
        str(out / "r.json"),
        "--html",
        str(out / "r.html"),
    ]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["verify", *args], catch_exceptions=False)


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[str]:
    with serve_buyer(tmp_path, ["legacy-errors"]) as url:
        yield url


def test_list_checks_names_every_check_of_every_direction() -> None:
    result = run("--list-checks")
    assert result.exit_code == 0
    assert "buyer.api.auth-enforced" in result.output
    assert "buyer.workflow.illegal-refused" in result.output
    assert "buyer.webhooks.retries" in result.output
    assert "producer.receiver.signatures" in result.output
    assert "producer.client.retry-same-id" in result.output
    assert "Not built yet" not in result.output  # every direction has its checks


def test_a_clean_buyer_passes_with_exit_0_and_the_reports_say_so(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with serve_buyer(tmp_path) as url:
        result = run(
            "buyer",
            url,
            "--api-key",
            API_KEY,
            *OPERATOR,
            *FAST,
            *reports(out),
        )
    assert result.exit_code == 0, result.output
    assert "0 failed (0 new)" in result.output
    data = json.loads((out / "r.json").read_text())
    assert data["counts"]["failed"] == 0
    assert data["counts"]["passed"] > 50
    suites = junit_root(out / "j.xml")
    assert suites.get("failures") == "0"
    skipped = suites.findall(".//testcase/skipped")
    assert skipped
    assert all("not run" in str(s.get("message")) for s in skipped)


def test_a_failure_is_exit_1_with_the_request_response_and_the_contract_in_every_report(
    tmp_path: Path, faulty: str
) -> None:
    out = tmp_path / "out"
    result = run(
        "buyer",
        faulty,
        "--api-key",
        API_KEY,
        "--check",
        "buyer.api.problem-errors",
        *reports(out),
    )
    assert result.exit_code == 1
    assert "✗ buyer.api.problem-errors submitBid" in result.output
    assert "wanted:   an error answer is application/problem+json" in result.output
    failure = junit_root(out / "j.xml").find(".//testcase[@name='submitBid']/failure")
    assert failure is not None
    assert '{"error"' in str(failure.text)
    assert "problem+json" in str(failure.get("message"))
    data = json.loads((out / "r.json").read_text())
    failed = [r for r in data["results"] if r["outcome"] == "failed"]
    assert failed[0]["evidence"]["exchanges"][0]["response"]["status"] == 401
    html = (out / "r.html").read_text()
    assert not any(tag in html for tag in ("<script", "<link", " src=", "@import"))  # offline
    assert "The contract wants:" in html
    assert "&quot;error&quot;" in html
    assert API_KEY not in html
    assert API_KEY not in (out / "r.json").read_text()


def test_a_baseline_accepts_known_failures_and_fail_under_gates_the_score(
    tmp_path: Path, faulty: str
) -> None:
    baseline = tmp_path / "baseline.json"
    args = ["buyer", faulty, "--api-key", API_KEY, "--check", "buyer.api.problem-errors"]
    first = run(*args, "--write-baseline", str(baseline))
    assert first.exit_code == 1
    assert "6 accepted failures" in first.output
    accepted = run(*args, "--baseline", str(baseline))
    assert accepted.exit_code == 0, accepted.output
    assert "0 new" in accepted.output
    gated = run(*args, "--baseline", str(baseline), "--fail-under", "50")
    assert gated.exit_code == 1


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["buyer", "localhost:3004"], "is not an http(s) URL"),
        (["buyer", "http://127.0.0.1:9", "--api-key", "k"], "Cannot reach http://127.0.0.1:9"),
        (["buyer", "http://127.0.0.1:9", "--buyer-header", "Bearer x"], "'Bearer x' is not"),
        (["buyer", "http://127.0.0.1:9", "--check", "buyer.api.auth"], "Did you mean"),
        (["buyer", "http://127.0.0.1:9", "--max-examples", "0"], "--max-examples"),
    ],
)
def test_usage_and_configuration_errors_exit_2_naming_the_value(args: list[str], said: str) -> None:
    result = CliRunner().invoke(main, ["verify", *args])
    assert result.exit_code == 2, result.output
    assert said in result.output


def test_a_baseline_naming_an_unknown_check_is_a_usage_error(tmp_path: Path) -> None:
    baseline = tmp_path / "b.yaml"
    baseline.write_text("accepted:\n  - check: buyer.api.auth-enforcd\n")
    result = CliRunner().invoke(
        main, ["verify", "buyer", "http://127.0.0.1:9", "--baseline", str(baseline)]
    )
    assert result.exit_code == 2
    assert "no check named 'buyer.api.auth-enforcd'" in result.output
