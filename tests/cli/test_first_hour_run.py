"""Issue 15, `scenario run` in the first hour: each misconfiguration a new user makes stops
before (or at once during) the run with exit 2 and a message naming the setting, and a correct
pair passes and says where its reports went."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from lotflow.cli import main
from lotflow.cli.portals import free_port, write_env_file
from lotflow.serving import ServerThread
from lotflow.signing import new_webhook_secret
from lotflow.stack import ReferenceStack


def paired(tmp: Path, **options: object) -> ReferenceStack:
    """A pair whose buyer sends webhooks to the tap port `scenario run` will serve."""
    return ReferenceStack(tmp, tap_port=free_port("127.0.0.1"), **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceStack]:
    with paired(tmp_path_factory.mktemp("pair")) as running:
        yield running


def run(stack: ReferenceStack, out: Path, *extra: str, names: tuple[str, ...] = ()) -> Result:
    c = stack.credentials
    args = [
        "scenario",
        "run",
        *(names or ("01-happy-path",)),
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
        "--tap-port",
        str(stack.tap_port or 0),
        "--out",
        str(out),
        *extra,
    ]
    return CliRunner().invoke(main, args, terminal_width=400, env={"LOTFLOW_PRODUCER_TOKENS": ""})


def normalised(text: str) -> str:
    """Ports, generated values and durations replaced, so the text can be compared."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    return re.sub(r"\d+\.\d+s", "N.NNs", text)


def test_a_pair_started_in_one_step_passes_from_its_env_file_and_says_where_reports_went(
    pair: ReferenceStack, tmp_path: Path
) -> None:
    env_file = tmp_path / "pair.env"
    write_env_file(env_file, pair.pair_env(), "test pair")
    out = tmp_path / "r"
    args = ["scenario", "run", "01-happy-path", "--env-file", str(env_file), "--out", str(out)]
    result = CliRunner().invoke(main, args, terminal_width=400)
    assert result.exit_code == 0, result.output
    assert f"Reports: {out} (story.html, story.md, junit.xml, result.json)" in result.output
    assert json.loads((out / "result.json").read_text())["ended"]["how"] == "finished"


@pytest.mark.parametrize(
    ("extra", "setting", "why"),
    [
        (("--api-key", "wrong"), "--api-key (PRODUCER_API_KEY)", "listExternalLots answered 401"),
        (
            ("--buyer-token", "wrong"),
            "--buyer-token (LOTFLOW_BUYER_TOKEN)",
            "listLots answered 401",
        ),
        (("--producer-token", "alpha=wrong"), "--producer-token alpha=…", "answered 401"),
        (
            ("--webhook-secret", new_webhook_secret()),
            "--webhook-secret",
            "the producer refused a webhook signed with it",
        ),
    ],
    ids=["api-key", "buyer-token", "producer-token", "webhook-secret"],
)
def test_a_refused_credential_stops_before_the_first_step_naming_the_setting(
    pair: ReferenceStack, tmp_path: Path, extra: tuple[str, ...], setting: str, why: str
) -> None:
    result = run(pair, tmp_path / "r", *extra)
    assert result.exit_code == 2, result.output
    assert f"  - {setting}: " in result.output
    assert why in result.output
    assert "[1/" not in result.output  # no step ran
    assert not (tmp_path / "r").exists()


def test_the_right_webhook_secret_passes_the_signed_probe(
    pair: ReferenceStack, tmp_path: Path
) -> None:
    result = run(pair, tmp_path / "r", "--webhook-secret", pair.credentials.webhook_secret)
    assert result.exit_code == 0, result.output


def test_an_alias_the_files_act_as_without_a_token_is_named_before_the_run(
    pair: ReferenceStack, tmp_path: Path
) -> None:
    result = run(pair, tmp_path / "r", names=("08-two-producers",))
    assert result.exit_code == 2
    assert (
        "08-two-producers.yaml acts as producer 'beta' but no token was given for it: add "
        "--producer-token beta=" in result.output
    )


def test_swapped_urls_and_a_url_without_scheme_are_named(
    pair: ReferenceStack, tmp_path: Path
) -> None:
    swapped = run(pair, tmp_path / "r", "--buyer", pair.producer_url, "--producer", pair.buyer_url)
    assert swapped.exit_code == 2
    assert "the two URLs are swapped: http://127.0.0.1:PORT serves the Producer Portal's API" in (
        normalised(swapped.output)
    )
    bare = run(pair, tmp_path / "r", "--buyer", "localhost:3004")
    assert bare.exit_code == 2
    assert (
        "error: --buyer: 'localhost:3004' is not an http(s) URL; write it with its scheme, e.g. "
        "http://localhost:3004" in bare.output
    )
    assert "Traceback" not in bare.output


def test_out_under_a_file_stops_before_anything_starts(
    pair: ReferenceStack, tmp_path: Path
) -> None:
    (tmp_path / "afile.txt").write_text("x")
    result = run(pair, tmp_path / "afile.txt" / "sub")
    assert result.exit_code == 2
    assert f"cannot write the reports there ({tmp_path / 'afile.txt'} is a file)" in result.output
    assert "Webhook tap" not in result.output  # nothing was started


def test_a_buyer_whose_webhooks_go_elsewhere_stops_at_once_as_a_configuration_error(
    tmp_path: Path,
) -> None:
    with ReferenceStack(tmp_path / "db") as demo_stack:  # its buyer sends to its own tap
        result = run(demo_stack, tmp_path / "r")
    assert result.exit_code == 2, result.output
    assert "the buyer sent lot.published to http://127.0.0.1:PORT/api/webhooks/lots, not to " in (
        normalised(result.output)
    )
    assert "PRODUCER_DASHBOARD_WEBHOOK_URL" in result.output
    document = json.loads((tmp_path / "r" / "result.json").read_text())
    assert document["ended"]["how"] == "errored"
    assert document["ended"]["kind"] == "configuration"
    assert document["summary"]["steps_failed"] == 0  # stopped before any contract failure


def test_a_producer_holding_another_webhook_secret_stops_the_run_naming_the_secrets(
    tmp_path: Path,
) -> None:
    other = {"BUYER_WEBHOOK_SECRET": new_webhook_secret()}
    with paired(tmp_path / "db", producer_env=other) as stack:
        result = run(stack, tmp_path / "r")
    assert result.exit_code == 2, result.output
    assert "the producer answered 401 to the buyer's lot.published webhook" in result.output
    assert "PRODUCER_DASHBOARD_WEBHOOK_SECRET" in result.output
    assert "attempt 5" not in result.output


def test_a_portal_without_openapi_json_that_answers_404_is_named_as_the_wrong_portal(
    pair: ReferenceStack, tmp_path: Path
) -> None:
    async def nothing_here(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    with ServerThread(nothing_here) as elsewhere:
        result = run(pair, tmp_path / "r", "--buyer", elsewhere.url)
    assert result.exit_code == 2, result.output
    assert (
        "  - --buyer: http://127.0.0.1:PORT answered 404 to GET /api/lots, which every buyer "
        "portal serves" in normalised(result.output)
    )
