"""``lotflow simulate``: bad input is exit 2 naming the value; a run prints how to reach the
simulator and writes its recording."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from lotflow.cli import main
from tests.simulators.conftest import BuyerSide


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["simulate", *args])
    return result.exit_code, result.output


def test_an_unreachable_portal_is_exit_2_naming_it() -> None:
    code, output = run("producer", "--buyer", "http://127.0.0.1:9", "--api-key", "k" * 24)
    assert code == 2
    assert "--buyer http://127.0.0.1:9: nothing answers there" in output


def test_a_url_that_is_not_one_is_exit_2() -> None:
    code, output = run("buyer", "--producer", "localhost:3000")
    assert code == 2
    assert "--producer 'localhost:3000': expected the portal's base URL" in output


def test_a_secret_that_cannot_sign_is_exit_2(buyer_side: BuyerSide) -> None:
    code, output = run("buyer", "--producer", buyer_side.producer_url, "--secret", "whsec_%%%")
    assert code == 2
    assert "--secret 'whsec_%%…'" in output
    assert "base64" in output


def test_a_bad_fault_plan_is_exit_2_with_its_line(buyer_side: BuyerSide, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("seed: 1\nanswers:\n  - fault: timout\n", encoding="utf-8")
    code, output = run("buyer", "--producer", buyer_side.producer_url, "--faults", str(plan))
    assert code == 2
    assert f'{plan}:3: answers[0].fault is "timout"' in output
    assert "did you mean 'timeout'?" in output


def test_a_port_in_use_is_exit_2(buyer_side: BuyerSide, busy_port: int) -> None:
    code, output = run("buyer", "--producer", buyer_side.producer_url, "--port", str(busy_port))
    assert code == 2
    assert f"--port {busy_port}: cannot listen on 127.0.0.1:{busy_port}" in output


def test_a_run_prints_the_wiring_and_writes_the_recording(
    buyer_side: BuyerSide, tmp_path: Path
) -> None:
    record = tmp_path / "run.har"
    code, output = run(
        "producer",
        "--buyer",
        buyer_side.sim.url,
        "--api-key",
        buyer_side.sim.api_key,
        "--fault",
        "unavailable:times=2",
        "--for",
        "0.2",
        "--record",
        str(record),
    )
    assert code == 0, output
    assert "The producer simulator is listening on http://127.0.0.1:" in output
    assert "PRODUCER_DASHBOARD_WEBHOOK_URL: http://127.0.0.1:" in output
    assert "0 exchanges, 0 findings, 0 deviations" in output
    assert json.loads(record.read_text(encoding="utf-8"))["log"]["entries"] == []
