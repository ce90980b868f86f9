"""A team's own pytest run loads the fixture module with -p and gets a working simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lotflow.simulators.pytest_plugin import _needed

from tests.simulators.conftest import BuyerSide

QUIET = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # only the plugin under test, loaded with -p

TEAM_TEST = """
def test_my_producer_takes_a_published_lot(buyer_simulator):
    lot = buyer_simulator.publish_lot(title="From the team's own test")
    assert buyer_simulator.wait_for_webhooks(1, timeout=10)
    (delivery,) = buyer_simulator.log.since()
    assert (delivery.event, delivery.status) == ("lot.published", 200)
    assert buyer_simulator.findings() == []
"""


def team_run(
    tmp_path: Path, *options: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """A team's pytest run of TEAM_TEST with the fixture module loaded by -p."""
    (tmp_path / "test_team.py").write_text(TEAM_TEST, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "lotflow.simulators.pytest_plugin", str(tmp_path / "test_team.py")]
    command += ["--rootdir", str(tmp_path), *options]
    return subprocess.run(  # noqa: S603 - this interpreter, arguments built here
        command, capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False, env=env
    )


def test_the_fixture_module_runs_a_teams_test_against_its_portal(
    buyer_side: BuyerSide, tmp_path: Path
) -> None:
    done = team_run(
        tmp_path,
        *("--lotflow-producer-url", buyer_side.producer_url),
        *("--lotflow-secret", buyer_side.sim.secret, "--lotflow-record", str(tmp_path)),
        env=os.environ | QUIET,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    recording = json.loads((tmp_path / "buyer-simulator.har").read_text(encoding="utf-8"))
    assert [e["_lotflow"]["subject"] for e in recording["log"]["entries"]] == ["lot.published"]


def test_a_missing_portal_url_is_a_usage_error(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOTFLOW_PRODUCER_URL", raising=False)
    with pytest.raises(pytest.UsageError, match="buyer_simulator needs --lotflow-producer-url"):
        _needed(pytestconfig, "producer-url", "buyer_simulator")
