"""Ctrl-C and SIGTERM stop any lotflow command with exit 130 and say which it was (a CI job
stops a background command with `kill`; left to SIGTERM's default action the process died at
once, without its clean-up). Commands with clean-up of their own (demo, scenario run, serve pair,
simulate) have tests of their own; this one is a command without: verify."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from lotflow.interrupts import EXIT_INTERRUPTED


@pytest.mark.parametrize(
    ("stop", "named"), [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")], ids=["int", "term"]
)
def test_an_interrupted_verify_exits_130_naming_the_signal(
    stop: signal.Signals, named: str
) -> None:
    with socket.socket() as portal:  # a portal that takes the connection and never answers
        portal.bind(("127.0.0.1", 0))
        portal.listen()
        portal.settimeout(30)
        url = f"http://127.0.0.1:{portal.getsockname()[1]}"
        command = [sys.executable, "-m", "lotflow.cli", "verify", "buyer", url]
        command += ["--api-key", "producer-key-0123456789"]
        with subprocess.Popen(  # noqa: S603 - this interpreter, arguments built here
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as process:
            connection, _ = portal.accept()  # verify is under way, waiting for an answer
            process.send_signal(stop)
            _out, err = process.communicate(timeout=30)
            connection.close()
    assert process.returncode == EXIT_INTERRUPTED, err
    assert f"Interrupted ({named})." in err
    assert "Traceback" not in err
    assert "Aborted!" not in err
