"""``lotflow doctor`` as a user runs it: exit codes, the table, JSON, --fail-on, --env, probes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lotflow.cli import main
from lotflow.doctor import Pair, Severity, check_pair, read_env_file
from lotflow.doctor.keys import fingerprint
from lotflow.doctor.report import DoctorResult, TerminalReporter
from tests.doctor.envfiles import (
    API_KEY,
    BUYER,
    OTHER_SECRET,
    PRODUCER,
    SEED_BUYER,
    SEED_PRODUCER,
    SIGNING,
    edited,
)
from tests.doctor.test_probes import serving


def doctor(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["doctor", *map(str, args)], env=env)


def files(buyer: Path = BUYER, producer: Path = PRODUCER) -> list[str | Path]:
    return ["--buyer-env", buyer, "--producer-env", producer]


def test_a_clean_pair_exits_0_and_shows_fingerprints_never_secrets() -> None:
    result = doctor(*files())
    assert result.exit_code == 0, result.output
    assert "clean — exit 0" in result.output
    assert fingerprint(API_KEY.encode()) in result.output
    assert API_KEY not in result.output
    assert SIGNING not in result.output


def test_the_integration_maps_example_files_exit_1_with_each_finding() -> None:
    result = doctor(*files(SEED_BUYER, SEED_PRODUCER))
    assert result.exit_code == 1
    for kind in ("lot-secret-mismatch", "weak-secret", "example-secret"):
        assert kind in result.output
    assert "dev-webhook-secret-456" not in result.output
    assert "8 errors" in result.output


def test_json_output_is_one_document_with_the_exit_code() -> None:
    result = doctor(*files(SEED_BUYER, SEED_PRODUCER), "--json")
    document = json.loads(result.output)
    assert document["exitCode"] == result.exit_code == 1
    assert document["summary"] == {"error": 8, "warning": 0, "info": 0}
    first = document["findings"][0]
    assert set(first) == {"id", "severity", "title", "buyer", "producer", "problem", "why", "fix"}
    rows = {row["variable"]: row for row in document["configuration"]}
    assert rows["BUYER_API_KEY"]["producer"] == fingerprint(b"dev-api-key-123")


def test_fail_on_sets_the_threshold(tmp_path: Path) -> None:
    buyer = edited(BUYER, tmp_path / "b.env", LOTFLOW_WEBHOOK_AUTH="legacy-bearer")
    producer = edited(PRODUCER, tmp_path / "p.env", LOTFLOW_WEBHOOK_AUTH="legacy-bearer")
    assert doctor(*files(buyer, producer)).exit_code == 0  # warnings only
    assert doctor(*files(buyer, producer), "--fail-on", "warning").exit_code == 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--buyer-env", "nowhere.env", "--producer-env", str(PRODUCER)], "nowhere.env"),
        (["--buyer-env", str(BUYER)], "--producer-env"),
        ([*map(str, files()), "--buyer", "localhost:3004"], "not an http(s) URL"),
        ([*map(str, files()), "--fail-on", "fatal"], "fatal"),
    ],
)
def test_bad_arguments_exit_2_naming_the_bad_value(args: list[str], says: str) -> None:
    result = doctor(*args)
    assert result.exit_code == 2
    assert says in result.output


def test_an_unreadable_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.env"
    path.write_bytes(b"\xff\xfe\x00")
    result = doctor(*files(path))
    assert result.exit_code == 2
    assert "bad.env" in result.output


def test_the_process_environment_is_read_only_with_env(tmp_path: Path) -> None:
    producer = edited(PRODUCER, tmp_path / "p.env", BUYER_API_KEY=None)
    without = doctor(*files(BUYER, producer), env={"BUYER_API_KEY": API_KEY})
    assert without.exit_code == 1
    assert "missing-secret" in without.output
    with_env = doctor(*files(BUYER, producer), "--env", env={"BUYER_API_KEY": API_KEY})
    assert with_env.exit_code == 0, with_env.output
    assert "+ environment" in with_env.output


def test_live_probes_run_against_the_reference_portals(tmp_path: Path) -> None:
    with (
        serving(tmp_path, "buyer", BUYER) as buyer,
        serving(tmp_path, "producer", PRODUCER, BUYER_WEBHOOK_SECRET=OTHER_SECRET) as producer,
    ):
        result = doctor(*files(), "--buyer", buyer, "--producer", producer, "--json")
    found = [f["id"] for f in json.loads(result.output)["findings"]]
    assert result.exit_code == 1
    assert "delivery-refused" in found
    assert "api-key-refused" not in found


def test_wide_values_are_never_cut_on_a_narrow_terminal(tmp_path: Path) -> None:
    url = "http://producer.internal.example.com:3000/api/webhooks/lots"
    buyer = edited(BUYER, tmp_path / "b.env", PRODUCER_DASHBOARD_WEBHOOK_URL=url)
    pair = Pair(read_env_file(buyer), read_env_file(PRODUCER))
    stream = io.StringIO()
    TerminalReporter(stream, width=40).report(DoctorResult(pair, check_pair(pair), Severity.ERROR))
    assert url in stream.getvalue()
    assert "PRODUCER_DASHBOARD_WEBHOOK_SECRET" in stream.getvalue()
