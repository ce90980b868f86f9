"""``lotflow explore``: the two-party model against two running parties (reference portals,
simulators or real portals)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import httpx

from lotflow.cli.parties import env_file_option, party_options
from lotflow.cli.parties import producer_tokens as producer_tokens_of
from lotflow.cli.running import report_folder
from lotflow.engine.preflight import url_problem
from lotflow.engine.tap import WebhookTap
from lotflow.errors import ConfigError
from lotflow.explore.explorer import Budget, explore, explore_within
from lotflow.explore.live import LivePair
from lotflow.explore.report import lines, write_reports
from lotflow.serving import ServerThread


@click.command()
@env_file_option
@party_options
@click.option(
    "--steps",
    default=20,
    show_default=True,
    type=click.IntRange(1, 500),
    help="Most steps in one explored story.",
)
@click.option(
    "--examples",
    default=10,
    show_default=True,
    type=click.IntRange(1, 100000),
    help="Stories to explore (per round, with --time).",
)
@click.option(
    "--time",
    "seconds",
    type=click.FloatRange(min=0, min_open=True),
    help="Explore in rounds until this many seconds have passed.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=int,
    help="Seed of the draws (0: the derandomized draws of the fast profile).",
)
@click.option(
    "--tap",
    "use_tap",
    is_flag=True,
    help="Start lotflow's webhook tap (point the buyer's PRODUCER_DASHBOARD_WEBHOOK_URL "
    "at it): the receiver-down and delivery-fault rules then run, and every delivery is "
    "watched.",
)
@click.option(
    "--tap-port",
    default=0,
    type=click.IntRange(0, 65535),
    help="Port for the webhook tap (0: a free one).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for result.json, junit.xml and counterexample.yaml "
    "(default: ./lotflow-report-<time>).",
)
def explore_command(
    buyer_url: str,
    producer_url: str,
    buyer_token: str,
    producer_tokens: tuple[str, ...],
    steps: int,
    examples: int,
    seconds: float | None,
    seed: int,
    use_tap: bool,
    tap_port: int,
    out: Path | None,
) -> None:
    """Explore the workflow between two running parties: Hypothesis draws stories of both
    parties' actions, checks the workflow's invariants after every step, and shrinks what
    breaks one to a short scenario file (counterexample.yaml; `lotflow scenario run` replays it).

    With --tap (point the buyer's webhooks at it) the tap plays the network: the receiver down
    and the delivery faults (drop, delay, duplicate, lost answer; held copies released late).
    Time passing and restarts need control of the clock and the processes: against running
    parties they are not run, and the report says so.
    Exit 0 when no invariant broke, 1 when one did, 2 for a bad option or an unreachable party.
    """
    tokens = producer_tokens_of(producer_tokens)
    if not tokens:
        raise ConfigError("Give at least one --producer-token ALIAS=TOKEN (e.g. alpha=s3cr3t).")
    for name, url in (("buyer", buyer_url), ("producer", producer_url)):
        _require_reachable(name, url)
    folder = report_folder(out)
    tap = WebhookTap(forward_to=producer_url.rstrip("/")) if use_tap else None
    server = ServerThread(tap.app, port=tap_port).start() if tap else None
    pair = LivePair(buyer_url, producer_url, buyer_token, tokens, tap=tap)
    try:
        if server is not None:
            click.echo(f"Webhook tap on {server.url} → {producer_url}")
        budget = Budget(examples=examples, steps=steps, seed=seed)
        found = (
            explore_within(lambda: pair, budget, pair.controls, seconds)
            if seconds
            else explore(lambda: pair, budget, pair.controls)
        )
    finally:
        pair.shutdown()
        if server is not None:
            server.stop()
    for line in lines(found):
        click.echo(line)
    for path in write_reports(found, folder):
        click.echo(f"wrote {path}")
    sys.exit(0 if found.ok else 1)


def _require_reachable(name: str, url: str) -> None:
    """ConfigError (exit 2) unless ``url`` is an http(s) URL that answers."""
    problem = url_problem(f"--{name}", url)
    if problem is not None:
        raise ConfigError(str(problem))
    try:
        httpx.get(url.rstrip("/") + "/openapi.json", timeout=5)
    except httpx.HTTPError as exc:
        raise ConfigError(
            f"Cannot reach the {name} portal at {url}: {type(exc).__name__}. Is it running, and "
            f"is the URL right?"
        ) from None
