"""Issue 15, serving portals in the first hour: a joined pair in one step, a demo producer that
can join it, a busy port and a missing database driver named before anything starts."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from lotflow.cli import main
from lotflow.cli.portals import read_env_file

CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("PRODUCER_", "LOTFLOW_", "BUYER_", "NEXT_PUBLIC_", "MARKETPLACE_"))
}


@contextmanager
def lotflow(
    tmp_path: Path,
    *args: str,
    until: str,
    preexec_fn: Callable[[], object] | None = None,
    **env: str,
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``lotflow ARGS`` in a process, read until a line holds ``until``; SIGINT at the end."""
    process = subprocess.Popen(  # noqa: S603 - this interpreter running lotflow itself
        [sys.executable, "-m", "lotflow.cli", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**CLEAN_ENV, "COLUMNS": "200", **env},
        preexec_fn=preexec_fn,
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        for line in process.stdout:
            seen.append(line)
            if until in line:
                break
        yield process, "".join(seen)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        process.stdout.close()


def test_serve_pair_starts_joined_portals_that_scenario_run_passes_from_the_env_file(
    tmp_path: Path,
) -> None:
    with lotflow(tmp_path, "serve", "pair", until="Ctrl-C stops both") as (process, printed):
        env_file = tmp_path / "lotflow-pair.env"
        assert f"Credentials (generated for this run): {env_file}" in printed
        assert "producer operators by alias: alpha (Iberia Biofuels S.L.), beta" in printed
        assert f"lotflow scenario run --env-file {env_file}" in printed
        assert re.search(r"NEXT_PUBLIC_BUYER_DASHBOARD_URL=http://127\.0\.0\.1:\d+\n", printed)
        assert oct(env_file.stat().st_mode & 0o777) == "0o600"
        assert "no limit on failed authentications (LOTFLOW_AUTH_FAILURE_LIMIT=0)" in printed
        buyer = re.search(r"Buyer Portal +(http://\S+)", printed)
        assert buyer is not None, printed
        wrong = {"X-API-Key": "a-wrong-key-0123456789"}
        refused = {
            httpx.get(f"{buyer.group(1)}/api/lots/external", headers=wrong, timeout=10).status_code
            for _ in range(35)  # past the default limit of 30 a minute
        }
        assert refused == {401}
        result = CliRunner().invoke(
            main,
            [
                "scenario",
                "run",
                "08-two-producers",
                "--env-file",
                str(env_file),
                "--out",
                str(tmp_path / "r"),
            ],
            env={"LOTFLOW_PRODUCER_TOKENS": ""},
        )
        assert result.exit_code == 0, result.output
        assert "1 passed, 0 failed" in result.output
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 130


def _as_a_background_job() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what `lotflow serve pair &` in a script gets


@pytest.mark.parametrize("background", [False, True], ids=["foreground", "background-job"])
def test_sigterm_stops_the_pair_as_ctrl_c_does_and_its_databases_go(
    tmp_path: Path, background: bool
) -> None:
    """A CI job runs the pair in the background and stops it with `kill`: it used to die at
    once, leaving its folder of databases behind in the temporary directory. A background job
    of a script also ignores SIGINT, so SIGTERM cannot simply be passed on as one."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with lotflow(
        tmp_path,
        "serve",
        "pair",
        until="Ctrl-C stops both",
        preexec_fn=_as_a_background_job if background else None,
        TMPDIR=str(scratch),
    ) as (process, _printed):
        assert [p.name.startswith("lotflow-pair-") for p in scratch.iterdir()] == [True]
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
        assert process.returncode == 130, rest
        assert "Stopped the pair." in rest
    assert list(scratch.iterdir()) == []


def test_a_demo_producer_joins_the_pairs_buyer_from_the_env_file_and_prints_aliases(
    tmp_path: Path,
) -> None:
    with lotflow(tmp_path, "serve", "pair", until="Ctrl-C stops both"):
        env_file = tmp_path / "lotflow-pair.env"
        buyer_url = read_env_file(env_file)["LOTFLOW_BUYER_URL"]
        args = ("serve", "producer", "--demo", "--env-file", str(env_file))
        with lotflow(tmp_path, *args, until="Uvicorn running on") as (_, printed):
            assert "producer operator alpha: token=" in printed
            assert "producer operator beta: token=" in printed
            url = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", printed)
            assert url is not None, printed
            alpha = re.search(r"producer operator alpha: token=(\S+)", printed)
            assert alpha is not None
            answer = httpx.get(
                f"{url.group(1)}/api/marketplace/lots",
                headers={"Authorization": f"Bearer {alpha.group(1)}"},
            )
            assert answer.status_code == 200
            assert "NEXT_PUBLIC_BUYER_DASHBOARD_URL" not in printed  # taken from the file
        assert buyer_url.startswith("http://127.0.0.1:")


def test_a_demo_producer_without_a_buyer_says_how_to_get_one() -> None:
    result = CliRunner().invoke(
        main,
        ["serve", "producer", "--demo"],
        env=dict.fromkeys(("NEXT_PUBLIC_BUYER_DASHBOARD_URL", "LOTFLOW_PRODUCER_OPERATORS"), ""),
    )
    assert result.exit_code == 2
    assert "--demo generates the producer's keys, secrets and operators, but not the buyer" in (
        result.output
    )
    assert "lotflow serve pair" in result.output


@pytest.mark.parametrize("portal", ["buyer", "producer", "pair"])
def test_a_busy_port_exits_2_before_anything_starts(portal: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", portal, "--demo", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 is in use" in result.output
    assert "Demo mode: generated" not in result.output  # no fresh secrets printed in vain
    assert "startup complete" not in result.output


def test_a_postgresql_url_without_the_driver_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the postgres extra were missing
    result = CliRunner().invoke(
        main, ["serve", "buyer", "--demo", "--database-url", "postgresql://u:p@127.0.0.1:1/db"]
    )
    assert result.exit_code == 2, result.output
    assert "install the postgres extra, e.g. pip install 'lotflow[postgres]'" in result.output
    assert "Traceback" not in result.output
