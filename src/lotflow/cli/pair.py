"""``lotflow serve pair``: both reference portals, joined, in one step.

One set of credentials is generated for both; the buyer's webhooks go to the tap port that
``lotflow scenario run --env-file`` will serve; everything is written to an env file (mode
0600) that ``scenario run`` and ``serve producer --env-file`` read, and what a real portal must
set to take either side's place is printed.
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import click

from lotflow.cli.portals import free_port, require_free_port, write_env_file
from lotflow.interrupts import EXIT_INTERRUPTED
from lotflow.stack import LOCAL_ONLY_SAID, PRODUCER_ORGS, ReferenceStack

DEFAULT_ENV_FILE = Path("lotflow-pair.env")


def serve_pair(
    host: str,
    buyer_port: int,
    producer_port: int,
    tap_port: int,
    env_file: Path | None,
) -> None:
    """Start the pair, print how to use and join it, and serve until Ctrl-C (exit 130)."""
    for port, what in ((buyer_port, "the buyer portal"), (producer_port, "the producer portal")):
        require_free_port(host, port, what)
    require_free_port(host, tap_port, "the webhook tap")
    env_path = (env_file or DEFAULT_ENV_FILE).resolve()
    with tempfile.TemporaryDirectory(prefix="lotflow-pair-") as workdir:
        stack = ReferenceStack(
            Path(workdir),
            host=host,
            buyer_port=buyer_port,
            producer_port=producer_port,
            tap_port=tap_port or free_port(host),
        )
        with stack:
            try:  # what it prints is inside: a job may stop it as soon as it has read it
                write_env_file(env_path, stack.pair_env(), HEADING)
                click.echo(describe(stack, env_path))
                threading.Event().wait()
            except KeyboardInterrupt:
                click.echo("Stopped the pair.")
                raise SystemExit(EXIT_INTERRUPTED) from None


HEADING = """Written by `lotflow serve pair` for this run only (never for production).
Run scenarios against the pair:  lotflow scenario run --env-file THIS_FILE
Join a real producer portal to the pair's buyer: set the NEXT_PUBLIC_/BUYER_/MARKETPLACE_ lines."""


def describe(stack: ReferenceStack, env_path: Path) -> str:
    """What the pair prints: where it runs, where its credentials are, how to use and join it."""
    c = stack.credentials
    env = stack.pair_env()
    aliases = ", ".join(f"{alias} ({org})" for alias, org in PRODUCER_ORGS.items())
    lines = [
        "The reference buyer and producer portals are running, joined:",
        f"  Buyer Portal     {stack.buyer_url}",
        f"  Producer Portal  {stack.producer_url}",
        f"  buyer webhooks → {stack.tap_url}/api/webhooks/lots (the tap `scenario run` serves)",
        f"Credentials (generated for this run): {env_path}",
        f"  producer operators by alias: {aliases}",
        f"  no limit on failed authentications ({LOCAL_ONLY_SAID}): a local pair",
        "",
        "Run the scenarios against the pair:",
        f"  lotflow scenario run --env-file {env_path}",
        f"  lotflow explore --env-file {env_path}      (random stories, delivery faults)",
        "",
        "A real producer portal takes the producer's place with:",
        *(
            f"  {k}={env[k]}"
            for k in ("NEXT_PUBLIC_BUYER_DASHBOARD_URL", "BUYER_API_KEY", "BUYER_WEBHOOK_SECRET")
        ),
        "A real buyer portal takes the buyer's place with:",
        f"  PRODUCER_API_KEY={c.api_key}",
        f"  PRODUCER_DASHBOARD_WEBHOOK_SECRET={c.webhook_secret}",
        f"  PRODUCER_DASHBOARD_WEBHOOK_URL={stack.tap_url}/api/webhooks/lots",
        "",
        "Ctrl-C stops both.",
    ]
    return "\n".join(lines)
