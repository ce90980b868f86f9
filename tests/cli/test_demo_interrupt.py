"""Ctrl-C, or SIGTERM (a CI job's `kill`), during the demo stops the run and shuts both portals
down cleanly, with the reports written."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.stack import write_scenario

WAITS_FOREVER = """\
name: Waits for a webhook that never comes
steps:
  - id: wait
    title: Wait a minute for an event nobody sends
    wait:
      webhooks:
        - {event: lot.archived, within: 60s}
"""


@pytest.mark.parametrize(
    ("stop", "named"),
    [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")],
    ids=["ctrl-c", "sigterm"],
)
def test_an_interrupt_stops_the_demo_and_releases_its_ports(
    tmp_path: Path, stop: signal.Signals, named: str
) -> None:
    story = write_scenario(tmp_path, WAITS_FOREVER)
    command = [
        sys.executable,
        "-m",
        "lotflow.cli",
        "demo",
        "--scenario",
        str(story),
        "--out",
        str(tmp_path / "r"),
        "--verbose",
    ]
    process = subprocess.Popen(  # noqa: S603 - this interpreter running lotflow itself
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # read until the run has started (the parties are shown)
        seen.append(line)
        if "lotflow · 1 story, 1 step" in line:  # the run has started: its step waits
            break
    process.send_signal(stop)
    rest, _ = process.communicate(timeout=30)
    output = "".join(seen) + rest
    assert process.returncode == 130, output
    assert "Interrupted: shutting the portals down." in output
    junit = (tmp_path / "r" / "junit.xml").read_text()  # the reports are written all the same
    assert f'<error message="Run interrupted ({named})' in junit
    assert 'type="interrupted"' in junit
    ports = re.findall(r"http://127\.0\.0\.1:(\d+)", "".join(seen))
    assert len(ports) == 3, output  # buyer, producer, tap
    for port in ports:
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", int(port))) != 0, f"port {port} still open"
