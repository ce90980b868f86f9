"""``lotflow simulate``: bad input is exit 2 naming the value; a run prints how to reach the
simulator and writes its recording."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from lotflow.simulators import ANSWER_FAULTS, WEBHOOK_FAULTS

from lotflow.cli import main
from lotflow.clock import SystemClock
from lotflow.ids import new_event_id
from lotflow.signing import new_webhook_secret, signature_headers
from tests.simulators.conftest import BuyerSide

JSON = {"content-type": "application/json"}
KEY = "a-random-enough-api-key-0123456789"


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["simulate", *args])
    return result.exit_code, result.output


def test_an_unreachable_portal_is_exit_2_naming_it_and_writes_no_record(tmp_path: Path) -> None:
    record = tmp_path / "run.har"
    code, output = run(
        "producer", "--buyer", "http://127.0.0.1:9", "--api-key", KEY, "--record", str(record)
    )
    assert code == 2
    assert "--buyer http://127.0.0.1:9: nothing answers there" in output
    assert not record.exists()  # nothing ran, so there is nothing to record


def test_a_weak_api_key_is_exit_2_naming_the_option(buyer_side: BuyerSide) -> None:
    code, output = run("producer", "--buyer", buyer_side.sim.url, "--api-key", "k" * 24)
    assert code == 2
    assert "error: --api-key (BUYER_API_KEY): uses only 1 distinct characters" in output


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


def test_findings_are_printed_live_and_fail_the_run(buyer_side: BuyerSide) -> None:
    secret = new_webhook_secret()
    command = [sys.executable, "-m", "lotflow.cli", "simulate", "producer"]
    command += ["--buyer", buyer_side.sim.url, "--api-key", buyer_side.sim.api_key]
    command += ["--secret", secret]
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(  # noqa: S603 - this interpreter, arguments built here
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.split("listening on ")[1].split()[0]
        payload = {"event": "lot.published", "eventId": new_event_id()}
        body = json.dumps(payload).encode()
        headers = signature_headers([new_webhook_secret()], payload["eventId"], body, SystemClock())
        httpx.post(f"{url}/api/webhooks/lots", content=body, headers=headers | JSON)
        lines = iter(process.stdout.readline, "")
        live = next(line for line in lines if line.startswith("finding"))
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 1
    assert "[webhook.signature] lot.published (from the buyer)" in live
    assert "1 exchanges, " in rest


def test_the_faults_are_listed_with_what_they_do() -> None:
    code, output = run("faults")
    assert code == 0
    for name, what in {**WEBHOOK_FAULTS, **ANSWER_FAULTS}.items():
        assert f"  {name:<16} {what}" in output


def test_sigterm_stops_it_and_the_recording_is_still_written(
    buyer_side: BuyerSide, tmp_path: Path
) -> None:
    """A CI job stops a background simulator with `kill` (SIGTERM), not Ctrl-C: the recording
    and the summary must still be written (they were lost)."""
    record = tmp_path / "run.har"
    command = [sys.executable, "-m", "lotflow.cli", "simulate", "producer"]
    command += ["--buyer", buyer_side.sim.url, "--api-key", buyer_side.sim.api_key]
    command += ["--record", str(record)]
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(  # noqa: S603 - this interpreter, arguments built here
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as process:
        assert process.stdout is not None
        lines = iter(process.stdout.readline, "")
        next(line for line in lines if "is listening on" in line)  # the first line it says
        process.send_signal(signal.SIGTERM)  # at once: a job kills it as soon as it is up
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 0, rest
    assert "Stopping (SIGTERM)." in rest
    assert f"Recording written to {record}" in rest
    assert json.loads(record.read_text(encoding="utf-8"))["log"]["entries"] == []


def test_a_producer_team_runs_the_catalogue_with_the_buyer_simulator_through_the_tap(
    tmp_path: Path,
) -> None:
    """What a producer team does from the command line: the buyer simulator's webhooks go to
    the tap of a `lotflow scenario run` started after it (`--through-tap`: nothing answers
    there yet), the tap forwards them to the producer, and the story passes."""
    from lotflow.reference.producer.app import create_app
    from lotflow.reference.producer.settings import ProducerSettings

    from lotflow.cli.portals import free_port
    from lotflow.serving import ServerThread
    from lotflow.stack import Credentials
    from tests.simulators.conftest import producer_env

    c = Credentials()
    sim_port, tap_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    sim_url = f"http://127.0.0.1:{sim_port}"
    env = producer_env(tmp_path, sim_url, c, c.webhook_secret, c.api_key)
    command = [sys.executable, "-m", "lotflow.cli", "simulate", "buyer", "--through-tap"]
    command += ["--producer", f"http://127.0.0.1:{tap_port}", "--port", str(sim_port)]
    command += ["--secret", c.webhook_secret, "--api-key", c.api_key]
    with (
        ServerThread(create_app(ProducerSettings.from_env(env))) as producer,
        subprocess.Popen(  # noqa: S603 - this interpreter, arguments built here
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        ) as simulator,
    ):
        assert simulator.stdout is not None
        lines = iter(simulator.stdout.readline, "")
        token = next(line for line in lines if "buyer operator token" in line).split()[-1]
        next(line for line in lines if "control token" in line)  # it is serving
        try:
            result = CliRunner().invoke(
                main,
                [
                    *("scenario", "run", "01-happy-path", "--buyer", sim_url),
                    *("--producer", producer.url, "--buyer-token", token),
                    *("--api-key", c.api_key, "--webhook-secret", c.webhook_secret),
                    *("--producer-token", f"alpha={c.producer_tokens['alpha']}"),
                    *("--tap-port", str(tap_port), "--out", str(tmp_path / "report")),
                ],
            )
        finally:
            simulator.send_signal(signal.SIGTERM)
            simulator.wait(30)
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.output
