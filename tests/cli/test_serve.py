"""``lotflow serve buyer --demo`` as a user runs it: a real server on a free port, the generated
credentials printed, requests answered with them, Ctrl-C stopping it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx


def test_serve_buyer_in_demo_mode_prints_its_credentials_and_answers_with_them(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRODUCER_", "LOTFLOW_"))}
    command = [sys.executable, "-m", "lotflow.cli", "serve", "buyer", "--demo", "--port", "0"]
    process = subprocess.Popen(  # noqa: S603 - this interpreter running lotflow itself
        command,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**env, "COLUMNS": "200"},
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        for line in process.stdout:  # until uvicorn says where it listens
            seen.append(line)
            if "Uvicorn running on" in line:
                break
        printed = "".join(seen)
        url = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", printed)
        assert url is not None, printed
        api_key = re.search(r"PRODUCER_API_KEY=(\S+)", printed)
        operators = re.search(r"LOTFLOW_BUYER_OPERATORS=(.+)", printed)
        assert api_key is not None, printed
        assert operators is not None, printed
        token = json.loads(operators.group(1))[0]["token"]
        with httpx.Client(base_url=url.group(1), timeout=30) as client:
            lot = {
                "title": "HEFA-SPK SAF, 100,000 gal",
                "type": "HEFA-SPK",
                "volume": {"amount": 100000, "unit": "gallons"},
                "pricing": {"price": 650000, "currency": "USD", "pricePerUnit": 6.5},
            }
            operator = {"Authorization": f"Bearer {token}"}
            created = client.post("/api/lots", json=lot, headers=operator)
            assert created.status_code == 201, created.text
            lot_id = created.json()["lot"]["_id"]
            assert client.post(f"/api/lots/{lot_id}/publish", headers=operator).status_code == 200
            producer = {"X-API-Key": api_key.group(1)}
            listed = client.get("/api/lots/external", headers=producer).json()
            assert [entry["_id"] for entry in listed["lots"]] == [lot_id]
            wrong = {"X-API-Key": "wrong"}
            refused = [client.get("/api/lots/external", headers=wrong) for _ in range(40)]
            # past the default limit of 30 a minute: a demo never locks its own user out
            assert {answer.status_code for answer in refused} == {401}
        assert "LOTFLOW_AUTH_FAILURE_LIMIT=0 (no limit on failed authentications" in printed
        assert (tmp_path / "lotflow-buyer.sqlite3").exists()  # the default database file
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        code = process.returncode
    assert code == 130, "".join(seen) + rest  # stopped by Ctrl-C, as a shell reports it
    assert "Finished server process" in rest
    assert "Stopped the reference buyer portal." in rest
    assert "Traceback" not in rest


def test_sigterm_shuts_a_served_portal_down_as_ctrl_c_does(tmp_path: Path) -> None:
    """uvicorn shuts down on SIGTERM, then raises it again once its handler is gone: that used
    to end the process by the signal (-15) after the clean shutdown; now it exits 130."""
    command = [sys.executable, "-m", "lotflow.cli", "serve", "buyer", "--demo", "--port", "0"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRODUCER_", "LOTFLOW_"))}
    with subprocess.Popen(  # noqa: S603 - this interpreter running lotflow itself
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as process:
        assert process.stdout is not None
        seen = [line for line in _until(process.stdout, "Uvicorn running on")]
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    assert process.returncode == 130, "".join(seen) + rest
    assert "Application shutdown complete." in rest
    assert "Stopped the reference buyer portal." in rest


def _until(lines: Iterator[str], text: str) -> Iterator[str]:
    for line in lines:
        yield line
        if text in line:
            return
