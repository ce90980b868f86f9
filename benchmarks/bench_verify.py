"""How long ``lotflow verify buyer`` and ``lotflow verify producer`` take against the reference
portals with the default budget.

    python benchmarks/bench_verify.py [--rounds 3] [--max-examples 25] [--party buyer producer]

Each reference portal runs under uvicorn in a process of its own (as a team's portal would), on a
fresh SQLite database, with its default settings (the buyer's webhook sender too: backoff from
1 s, a 10 s timeout); verify runs every check of the party in this process with the CLI's
defaults, ``--rounds`` times, each against a fresh portal. The buyer's webhooks go to verify's
listener (``--webhook-listen``), so the webhook checks run. Prints each round, the median, and
the time of each check in the median round. Target: each party within 60 s on two cores. The
exit code is 0 whether or not the target is met (it is a measurement).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from lotflow.clock import SystemClock
from lotflow.credentials import BuyerCredentials, Credentials
from lotflow.openapi import load_portal_spec
from lotflow.verify.listener import WebhookListener
from lotflow.verify.registry import select_checks
from lotflow.verify.runner import CheckFinished, Event, run_checks
from lotflow.verify.session import Budget, VerifySession
from lotflow.verify.simulated import SimulatedBuyer

API_KEY = "bench-producer-key-0123456789"
TOKEN = "bench-operator-token-0123456789"  # noqa: S105 - a test value
TARGET_SECONDS = 60.0
CLOCK = SystemClock()
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - a test value
OPERATOR = Credentials({"Authorization": f"Bearer {TOKEN}"})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def buyer_env(folder: Path, webhook_url: str) -> dict[str, str]:
    return {
        "PRODUCER_API_KEY": API_KEY,
        "PRODUCER_DASHBOARD_WEBHOOK_URL": webhook_url,
        "PRODUCER_DASHBOARD_WEBHOOK_SECRET": SECRET,
        "LOTFLOW_BUYER_OPERATORS": json.dumps(
            [{"orgId": "6750a0ffe4b0f1a2b3c4d001", "name": "Bench Air", "token": TOKEN}]
        ),
        "LOTFLOW_DATABASE_URL": f"sqlite:///{folder / 'buyer.sqlite3'}",
        "LOTFLOW_AUTH_FAILURE_LIMIT": "0",  # verify fails authentications on purpose
    }


def producer_env(folder: Path, buyer_url: str) -> dict[str, str]:
    return {
        "NEXT_PUBLIC_BUYER_DASHBOARD_URL": buyer_url,
        "BUYER_API_KEY": API_KEY,
        "BUYER_WEBHOOK_SECRET": SECRET,
        "LOTFLOW_PRODUCER_OPERATORS": json.dumps(
            [{"orgId": "6750a099e4b0f1a2b3c4dabc", "name": "Bench Fuels", "token": TOKEN}]
        ),
        "LOTFLOW_DATABASE_URL": f"sqlite:///{folder / 'producer.sqlite3'}",
        "LOTFLOW_AUTH_FAILURE_LIMIT": "0",
    }


@contextmanager
def portal(party: str, env: dict[str, str]) -> Iterator[str]:
    """The reference portal in its own process; its URL once it answers."""
    port = _free_port()
    env = dict(os.environ) | env
    command = [sys.executable, "-m", "lotflow.cli", "serve", party, "--port", str(port)]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = subprocess.Popen(command, env=env, **quiet)  # noqa: S603 - our own CLI
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def _wait(url: str, server: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = CLOCK.monotonic() + timeout
    while CLOCK.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the portal exited with {server.returncode} during start-up")
        try:
            httpx.get(url + "/openapi.json", timeout=1.0)
        except httpx.TransportError:
            _pause(server)
            continue
        return
    raise SystemExit(f"the portal did not answer within {timeout} s")


def _pause(server: subprocess.Popen[bytes]) -> None:
    """Wait a moment for the server (returns early if it exits)."""
    try:
        server.wait(0.05)
    except subprocess.TimeoutExpired:
        return


def one_round(party: str, max_examples: int) -> tuple[float, dict[str, float], str]:
    """One verify run of ``party`` against a fresh portal: seconds, per check, the counts."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if party == "producer":
            # verify plays the producer's buyer (the client checks), as --buyer-listen does
            with (
                SimulatedBuyer.running("", secret=SECRET, api_key=API_KEY) as buyer,
                portal("producer", producer_env(folder, buyer.url)) as url,
            ):
                buyer.simulator.producer_url = url
                session = VerifySession(
                    url,
                    BuyerCredentials(operator=OPERATOR),
                    budget=Budget(max_examples=max_examples),
                    spec=load_portal_spec("producer"),
                    webhook_secrets=(SECRET,),
                    buyer=buyer,
                )
                return _timed(session, "producer")
        listener = WebhookListener()
        with listener.running(), portal("buyer", buyer_env(folder, listener.url)) as url:
            session = VerifySession(
                url,
                BuyerCredentials(api_key=API_KEY, operator=OPERATOR),
                budget=Budget(max_examples=max_examples),
                webhooks=listener,
                webhook_secrets=(SECRET,),
            )
            return _timed(session, "buyer")


def _timed(session: VerifySession, party: str) -> tuple[float, dict[str, float], str]:
    per_check: dict[str, float] = {}

    def listen(event: Event) -> None:
        if isinstance(event, CheckFinished):
            per_check[event.check.id] = event.seconds

    started = CLOCK.monotonic()
    card = asyncio.run(run_checks(session, select_checks(party), listen))
    counts = card.counts()
    summary = f"{counts['passed']} passed, {counts['failed']} failed, {counts['not_run']} not run"
    return CLOCK.monotonic() - started, per_check, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-examples", type=int, default=Budget().max_examples)
    parser.add_argument("--party", nargs="*", default=["buyer", "producer"])
    args = parser.parse_args()
    for party in args.party:
        rounds = []
        for number in range(1, args.rounds + 1):
            seconds, per_check, summary = one_round(party, args.max_examples)
            rounds.append((seconds, per_check))
            print(f"verify {party} round {number}: {seconds:.1f} s ({summary})", flush=True)
        median = statistics.median(seconds for seconds, _ in rounds)
        _, per_check = min(rounds, key=lambda r: abs(r[0] - median))
        print(f"verify {party} median: {median:.1f} s (target ≤ {TARGET_SECONDS:.0f} s on 2 cores)")
        for check_id, seconds in per_check.items():
            print(f"  {check_id:34} {seconds:6.1f} s")
        print()


if __name__ == "__main__":
    main()
