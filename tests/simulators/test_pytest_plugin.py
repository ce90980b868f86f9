"""A team's own pytest run loads the fixture module with -p and gets a working simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_the_fixture_module_runs_a_teams_test_against_its_portal(
    buyer_side: BuyerSide, tmp_path: Path
) -> None:
    (tmp_path / "test_team.py").write_text(TEAM_TEST, encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "lotflow.simulators.pytest_plugin",
        str(tmp_path / "test_team.py"),
        "--rootdir",
        str(tmp_path),
        "--lotflow-producer-url",
        buyer_side.producer_url,
        "--lotflow-secret",
        buyer_side.sim.secret,
        "--lotflow-record",
        str(tmp_path),
    ]
    done = subprocess.run(  # noqa: S603 - this interpreter, arguments built here
        command,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
        env=os.environ | QUIET,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    recording = json.loads((tmp_path / "buyer-simulator.har").read_text(encoding="utf-8"))
    assert [e["_lotflow"]["subject"] for e in recording["log"]["entries"]] == ["lot.published"]


def test_a_missing_portal_url_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "test_team.py").write_text(TEAM_TEST, encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "lotflow.simulators.pytest_plugin",
        str(tmp_path / "test_team.py"),
        "--rootdir",
        str(tmp_path),
    ]
    done = subprocess.run(  # noqa: S603 - this interpreter, arguments built here
        command,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
        env={"PATH": os.environ.get("PATH", ""), **QUIET},
    )
    assert done.returncode != 0
    assert "buyer_simulator needs --lotflow-producer-url" in done.stdout + done.stderr
