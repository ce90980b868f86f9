"""The detection matrix: for every deliberate fault in ``reference/faults``, does plain
Schemathesis (with the spec), the Pact verification (``lotflow pact verify``, the buyer only) and
``lotflow verify`` catch it?

    python benchmarks/matrix.py [--faults NAME ...] [--max-examples 10]

Each tool runs against a fresh reference portal built with the fault (uvicorn on a free port, a
fresh SQLite database). A tool *catches* a fault when it reports a failure; the first row shows
each tool against the clean portals, so a tool that fails there is read with care. Schemathesis
runs only where the fault is in an HTTP API it can call (the buyer's API faults, the producer's
receivers); the Pact verification only against the buyer (its message pact too, through its own
webhook receiver, for the sender faults). Prints a Markdown table; exit code 0 (a measurement).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lotflow.reference.buyer import BuyerSettings
from lotflow.reference.buyer.app import create_app as buyer_app
from lotflow.reference.faults import CATALOGUE
from lotflow.reference.producer.app import create_app as producer_app
from lotflow.reference.producer.settings import ProducerSettings

from lotflow.clock import SystemClock
from lotflow.credentials import BuyerCredentials, Credentials
from lotflow.openapi import load_portal_spec
from lotflow.serving import ServerThread
from lotflow.verify.listener import WebhookListener
from lotflow.verify.registry import select_checks
from lotflow.verify.runner import run_checks
from lotflow.verify.session import Budget, VerifySession
from lotflow.verify.simulated import SimulatedBuyer

KEY = "matrix-producer-key-0123456789"
BUYER_TOKEN, PRODUCER_TOKEN = "matrix-buyer-token-0123", "matrix-producer-token-0123"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - a test value
FAST_SENDER = {
    "LOTFLOW_WEBHOOK_BACKOFF_BASE": "0.05",
    "LOTFLOW_WEBHOOK_BACKOFF_CAP": "2",
    "LOTFLOW_WEBHOOK_TIMEOUT": "0.3",
}
CLOCK = SystemClock()
SCHEMATHESIS_SECONDS = 20  # per run: its stateful phase would otherwise run for many minutes
CAUGHT, MISSED, NOT_APPLICABLE = "caught", "—", "n/a"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def buyer_env(folder: Path, webhook_url: str) -> dict[str, str]:
    operators = [{"orgId": "6750a0ffe4b0f1a2b3c4d001", "name": "Matrix Air", "token": BUYER_TOKEN}]
    return {
        "PRODUCER_API_KEY": KEY,
        "PRODUCER_DASHBOARD_WEBHOOK_URL": webhook_url,
        "PRODUCER_DASHBOARD_WEBHOOK_SECRET": SECRET,
        "LOTFLOW_BUYER_OPERATORS": json.dumps(operators),
        "LOTFLOW_DATABASE_URL": f"sqlite:///{folder / 'buyer.sqlite3'}",
        "LOTFLOW_AUTH_FAILURE_LIMIT": "0",
        **FAST_SENDER,
    }


def producer_env(folder: Path, buyer_url: str = "http://127.0.0.1:9") -> dict[str, str]:
    operators = [{"orgId": "6750a099e4b0f1a2b3c4dabc", "name": "Matrix", "token": PRODUCER_TOKEN}]
    return {
        "NEXT_PUBLIC_BUYER_DASHBOARD_URL": buyer_url,
        "BUYER_API_KEY": KEY,
        "BUYER_WEBHOOK_SECRET": SECRET,
        "LOTFLOW_PRODUCER_OPERATORS": json.dumps(operators),
        "LOTFLOW_DATABASE_URL": f"sqlite:///{folder / 'producer.sqlite3'}",
        "LOTFLOW_AUTH_FAILURE_LIMIT": "0",
    }


@contextmanager
def portal(
    party: str, faults: Sequence[str], webhook_url: str = "", buyer_url: str = ""
) -> Iterator[str]:
    """A fresh reference portal with ``faults``, served on a free port; its URL (a producer
    calls its buyer at ``buyer_url``, when given)."""
    with tempfile.TemporaryDirectory() as folder:
        if party == "buyer":
            settings = BuyerSettings.from_env(
                buyer_env(Path(folder), webhook_url or "http://127.0.0.1:9")
            )
            app = buyer_app(settings, faults=faults, dispatcher_enabled=bool(webhook_url))
        else:
            env = producer_env(Path(folder), *([buyer_url] if buyer_url else []))
            app = producer_app(ProducerSettings.from_env(env), faults=faults)
        with ServerThread(app) as server:
            yield server.url


# ---------------------------------------------------------------------------------- the tools


def schemathesis(party: str, faults: Sequence[str], examples: int) -> bool:
    """Whether plain Schemathesis (the bundled spec, the party's credentials) fails."""
    with tempfile.TemporaryDirectory() as folder, portal(party, faults) as url:
        spec = Path(folder) / f"{party}.json"
        spec.write_text(json.dumps(load_portal_spec(party)))
        headers = ["-H", f"X-API-Key: {KEY}"] if party == "buyer" else []
        headers += [
            "-H",
            f"Authorization: Bearer {PRODUCER_TOKEN if party == 'producer' else BUYER_TOKEN}",
        ]
        command = [sys.executable, "-m", "schemathesis.cli", "run", str(spec), "--url", url,
                   *headers, "-n", str(examples), "--seed", "0", "--no-shrink",
                   "--max-time", str(SCHEMATHESIS_SECONDS), "--request-timeout", "5"]  # fmt: skip
        done = subprocess.run(  # noqa: S603 - its own cache in the temporary folder
            command, capture_output=True, check=False, timeout=600, cwd=folder
        )
    return done.returncode == 1


def pact(faults: Sequence[str], sender: bool) -> bool:
    """Whether ``lotflow pact verify`` fails (with the message pact for a sender fault)."""
    port = _free_port()
    hook = f"http://127.0.0.1:{port}/api/webhooks/lots" if sender else ""
    with portal("buyer", faults, hook) as url:
        command = [
            *[sys.executable, "-m", "lotflow.cli", "pact", "verify", "--buyer", url],
            *["--api-key", KEY, "--operator-token", BUYER_TOKEN, "--message-timeout", "5"],
        ]
        if sender:
            command += ["--receive-webhooks", f"127.0.0.1:{port}"]
        done = subprocess.run(command, capture_output=True, check=False, timeout=600)  # noqa: S603
    return done.returncode == 1


def verify(party: str, faults: Sequence[str], examples: int) -> bool:
    """Whether ``lotflow verify <party>`` (every check, a small budget) reports a failure."""
    budget = Budget(max_examples=examples, answer_within=0.5, delivery_deadline=4.0, settle=0.5,
                    sender_timeout=0.3)  # fmt: skip
    if party == "producer":
        credentials = BuyerCredentials(
            operator=Credentials({"Authorization": f"Bearer {PRODUCER_TOKEN}"})
        )
        with (
            SimulatedBuyer.running("", secret=SECRET, api_key=KEY, backoff_base=0.05) as buyer,
            portal("producer", faults, buyer_url=buyer.url) as url,
        ):
            buyer.simulator.producer_url = url
            spec = load_portal_spec("producer")
            session = VerifySession(url, credentials, budget=budget, spec=spec,
                                    webhook_secrets=(SECRET,), buyer=buyer)  # fmt: skip
            card = asyncio.run(run_checks(session, select_checks("producer")))
        return card.exit_code() == 1
    credentials = BuyerCredentials(
        api_key=KEY, operator=Credentials({"Authorization": f"Bearer {BUYER_TOKEN}"})
    )
    with WebhookListener().running() as listener, portal("buyer", faults, listener.url) as url:
        session = VerifySession(url, credentials, budget=budget, webhooks=listener,
                                webhook_secrets=(SECRET,))  # fmt: skip
        card = asyncio.run(run_checks(session, select_checks("buyer")))
    return card.exit_code() == 1


# ---------------------------------------------------------------------------------- the table


def row(name: str, party: str, faults: Sequence[str], outbound: bool, examples: int) -> list[str]:
    """A fault's row; ``outbound``: the fault is in what the portal sends (webhooks, calls to
    the buyer), which Schemathesis cannot call."""

    def shown(found: bool | None) -> str:
        return NOT_APPLICABLE if found is None else (CAUGHT if found else MISSED)

    fuzz = None if outbound else schemathesis(party, faults, examples)
    contract = pact(faults, outbound) if party == "buyer" else None
    return [name, party, shown(fuzz), shown(contract), shown(verify(party, faults, examples))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faults", nargs="*", default=list(CATALOGUE))
    parser.add_argument("--max-examples", type=int, default=10)
    args = parser.parse_args()
    started = CLOCK.monotonic()
    print("| fault | portal | Schemathesis | Pact | lotflow verify |")
    print("|---|---|---|---|---|")
    for party in ("buyer", "producer"):
        clean = row(
            f"(clean {party}: a failure here is a false alarm)", party, [], False, args.max_examples
        )
        print("| " + " | ".join(clean) + " |", flush=True)
    for name in args.faults:
        fault = CATALOGUE[name]
        outbound = fault.transport is not None or fault.buyer_transport is not None
        found = row(f"`{name}`", fault.portal, [name], outbound, args.max_examples)
        print("| " + " | ".join(found) + " |", flush=True)
    print(f"\n{len(args.faults)} faults in {CLOCK.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
