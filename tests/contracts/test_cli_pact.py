"""``lotflow pact verify`` and ``lotflow pact check``: exit codes, what a person reads, JUnit and
JSON results; the buyer is the reference one on a real socket (or a broken wrapping of it)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner, Result
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lotflow.cli import main
from lotflow.pact.states import BuyerDriver, set_up
from lotflow.serving import ServerThread
from tests.contracts.broken import skipping_auth
from tests.contracts.provider_side import (
    API_KEY,
    HTTP_PACT,
    MESSAGE_PACT,
    OPERATOR_TOKEN,
    reference_buyer,
)

NO_ENV = {"BUYER_API_KEY": "", "PRODUCER_API_KEY": "", "LOTFLOW_BUYER_OPERATOR_TOKEN": ""}


def _junit(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # noqa: S314 - the file this test just wrote


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["pact", *args], env={**NO_ENV, **(env or {})})


def verify_http(url: str, *args: str) -> Result:
    """``lotflow pact verify`` of the committed HTTP pact against ``url``."""
    return run("verify", "--buyer", url, "--pact", str(HTTP_PACT), *args)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connections to it are refused."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def test_a_clean_buyer_passes_with_credentials_from_a_file(tmp_path: Path) -> None:
    env_file = tmp_path / "buyer.env"
    env_file.write_text(
        f"# the team's .env\nPRODUCER_API_KEY={API_KEY}\n"
        f"LOTFLOW_BUYER_OPERATOR_TOKEN='{OPERATOR_TOKEN}'\n"
    )
    junit, results = tmp_path / "junit.xml", tmp_path / "results.json"
    with reference_buyer(tmp_path) as target:
        result = verify_http(
            target.base_url,
            "--credentials",
            str(env_file),
            "--junit",
            str(junit),
            "--json",
            str(results),
        )
    assert result.exit_code == 0, result.output
    assert "✓ a bid submission [given a published lot exists]" in result.output
    assert "14 interactions verified" in result.output
    assert API_KEY not in result.output
    assert OPERATOR_TOKEN not in result.output
    suite = _junit(junit).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("14", "0")
    assert json.loads(results.read_text())["passed"] is True


def test_a_broken_buyer_fails_naming_the_interaction(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    with reference_buyer(tmp_path, wrap=skipping_auth) as target:
        result = verify_http(
            target.base_url,
            "--api-key",
            API_KEY,
            "--operator-token",
            OPERATOR_TOKEN,
            "--junit",
            str(junit),
        )
    assert result.exit_code == 1, result.output
    assert "✗ a request for the published lots without an API key" in result.output
    assert "expected 401 but was 200" in result.output
    assert "1 failed" in result.output
    cases = _junit(junit).iter("testcase")
    failures = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failures == ["a request for the published lots without an API key"]


def test_states_through_the_teams_own_state_url(tmp_path: Path) -> None:
    """The team's endpoint (Pact's POST {state, params}) sets states up; lotflow adds the key."""
    with reference_buyer(tmp_path) as target:
        driver = BuyerDriver.connect(
            target.base_url, API_KEY, {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        )
        called: list[str] = []

        async def change(request: Request) -> JSONResponse:
            body = await request.json()
            called.append(body["state"])
            return JSONResponse(set_up(driver, body["state"], body.get("params")))

        team = Starlette(routes=[Route("/pact/states", change, methods=["POST"])])
        with ServerThread(team) as endpoint:
            result = verify_http(
                target.base_url,
                "--api-key",
                API_KEY,
                "--state-url",
                endpoint.url + "/pact/states",
            )
        driver.close()
    assert result.exit_code == 0, result.output
    assert "a bid with a pending counter-offer exists" in called


def test_an_unreachable_buyer_is_a_usage_error(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    result = run("verify", "--buyer", url, "--api-key", "k", "--operator-token", "t")
    assert result.exit_code == 2
    assert f"The buyer portal at {url} could not be reached" in result.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--operator-token", "t"], "No producer API key: give --api-key"),
        (["--api-key", "k"], "give --operator-token, --buyer-header or --buyer-cookie"),
        (["--api-key", "k", "--operator-header", "no-colon"], "is not 'Name: value'"),
        (["--api-key", "k", "--operator-cookie", "session"], "is not 'name=value'"),
        (
            ["--api-key", "k", "--operator-token", "t", "--receive-webhooks", "3000"],
            "is not HOST:PORT",
        ),
    ],
)
def test_bad_usage_exits_2_naming_what_is_wrong(
    args: list[str], said: str, closed_port: int
) -> None:
    result = run("verify", "--buyer", f"http://127.0.0.1:{closed_port}", *args)
    assert result.exit_code == 2, result.output
    assert said in result.output


def test_a_message_pact_needs_a_webhook_receiver(tmp_path: Path) -> None:
    with reference_buyer(tmp_path) as target:
        result = run(
            "verify",
            "--buyer",
            target.base_url,
            "--pact",
            str(MESSAGE_PACT),
            "--api-key",
            API_KEY,
            "--operator-token",
            OPERATOR_TOKEN,
        )
    assert result.exit_code == 2
    assert "--receive-webhooks HOST:PORT" in result.output


def test_check_passes_the_committed_pacts_and_fails_a_drifted_one(tmp_path: Path) -> None:
    assert run("check", str(HTTP_PACT), str(MESSAGE_PACT)).exit_code == 0
    drifted = json.loads(HTTP_PACT.read_text())
    drifted["interactions"][0]["response"]["status"] = 418
    (tmp_path / "drifted.json").write_text(json.dumps(drifted))
    result = run("check", str(tmp_path / "drifted.json"))
    assert result.exit_code == 1
    assert "does not document status 418" in result.output
    (tmp_path / "not-a-pact.json").write_text("[1, 2]")
    assert run("check", str(tmp_path / "not-a-pact.json")).exit_code == 2


def test_the_installed_pacts_are_found_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team runs lotflow from its own repository, not from lotflow's checkout: with no pact
    given, ``pact verify`` and ``pact check`` use the pacts installed with lotflow."""
    monkeypatch.chdir(tmp_path)
    checked = run("check")
    assert checked.exit_code == 0, checked.output
    assert "producer-portal-buyer-portal.json" in checked.output
    with reference_buyer(tmp_path) as target:
        verified = run(
            "verify",
            "--buyer",
            target.base_url,
            "--api-key",
            API_KEY,
            "--operator-token",
            OPERATOR_TOKEN,
        )
    assert verified.exit_code == 0, verified.output
    assert "14 interactions verified" in verified.output
