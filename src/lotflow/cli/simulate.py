"""``lotflow simulate buyer|producer``: play one party against a real portal.

The simulator runs until Ctrl-C (or ``--for`` seconds), printing each finding as it arrives; on
the way out it writes the recording (``--record``) and exits 1 when the portal broke the contract,
0 when it did not, 2 for bad input (a bad fault plan, a secret that cannot sign, a portal that
does not answer, a port in use).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import httpx

from lotflow.errors import ConfigError
from lotflow.interrupts import stopped_by

EXIT_OK, EXIT_FAILED = 0, 1
_FAULT_HELP = (
    "A fault by name, with optional settings: NAME[:key=value,...], e.g. duplicate, "
    "unavailable:times=2,retry_after=1, delay:ms=200,event=bid.accepted. Repeatable."
)


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--host", default="127.0.0.1", show_default=True, help="Interface to listen on."
        ),
        click.option(
            "--port", default=0, type=click.IntRange(0, 65535), help="Port (0: a free one)."
        ),
        click.option(
            "--secret", metavar="S", help="The webhook secret (whsec_<base64> or plain text)."
        ),
        click.option(
            "--faults", "plan_file", type=click.Path(path_type=Path), help="A fault plan (YAML)."
        ),
        click.option("--fault", "flags", multiple=True, metavar="NAME[:k=v,...]", help=_FAULT_HELP),
        click.option(
            "--seed", type=int, default=0, show_default=True, help="Seed of --fault choices."
        ),
        click.option(
            "--record", type=click.Path(path_type=Path), help="Write every exchange here (HAR 1.2)."
        ),
        click.option(
            "--legacy-bearer", is_flag=True, help="Speak today's static-bearer webhook dialect."
        ),
        click.option(
            "--for", "duration", type=click.FloatRange(min=0), help="Stop after this many seconds."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group()
def simulate() -> None:
    """Play the buyer or the producer against your own running portal: serve its side of the
    spec, record every exchange, check every message against the spec, inject faults.

    Exit codes: 0 no findings, 1 the portal broke the contract, 2 bad input.
    """


@simulate.command()
@click.option(
    "--producer",
    "producer_url",
    required=True,
    metavar="URL",
    help="Your producer portal's base URL.",
)
@click.option(
    "--api-key",
    metavar="K",
    help="The key your producer sends in X-API-Key (generated when absent).",
)
@click.option("--webhook-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True)
@click.option(
    "--through-tap",
    is_flag=True,
    help="--producer is the webhook tap of a `lotflow scenario run` started after this "
    "simulator (its --tap-port): nothing need answer there yet; webhooks are retried until "
    "something does.",
)
@_common
def buyer(
    producer_url: str,
    api_key: str | None,
    webhook_timeout: float,
    through_tap: bool,
    **common: Any,
) -> None:
    """Play the buyer against your producer portal (it calls this simulator's buyer API, and
    receives its signed webhooks).

    To run the scenario catalogue against your producer with this simulator as the buyer: start
    it with --producer http://127.0.0.1:PORT --through-tap, then `lotflow scenario run --buyer
    <this simulator> --producer <your portal> --tap-port PORT ...` (the tap forwards each
    webhook to your portal and records it)."""
    from lotflow.simulators import BuyerSimulator

    if through_tap:
        _checked_url("--producer", producer_url)
    else:
        _probe("--producer", producer_url)  # before anything starts or writes a record
    sim = BuyerSimulator(
        producer_url,
        secret=common["secret"],
        api_key=api_key,
        plan=_plan(common),
        host=common["host"],
        port=common["port"],
        record=common["record"],
        webhook_auth=_auth(common),
        webhook_timeout=webhook_timeout,
    )
    shown = {
        "buyer API (NEXT_PUBLIC_BUYER_DASHBOARD_URL)": "{url}",
        "PRODUCER_API_KEY = BUYER_API_KEY": sim.api_key,
        "PRODUCER_DASHBOARD_WEBHOOK_SECRET = BUYER_WEBHOOK_SECRET": sim.secret,
        "buyer operator token": sim.operator_token,
    }
    _run(sim, shown, common["duration"])


@simulate.command()
@click.option(
    "--buyer", "buyer_url", required=True, metavar="URL", help="Your buyer portal's base URL."
)
@click.option(
    "--api-key", required=True, metavar="K", help="The key the buyer accepts in X-API-Key."
)
@click.option("--lot-secret", metavar="S", help="The lot webhooks' secret, when not --secret.")
@_common
def producer(buyer_url: str, api_key: str, lot_secret: str | None, **common: Any) -> None:
    """Play the producer against your buyer portal (point its PRODUCER_DASHBOARD_WEBHOOK_URL at
    this simulator; it bids through your buyer API)."""
    from lotflow.simulators import ProducerSimulator

    _probe("--buyer", buyer_url)  # before anything starts or writes a record
    sim = ProducerSimulator(
        buyer_url,
        api_key=api_key,
        secret=common["secret"],
        lot_secret=lot_secret,
        plan=_plan(common),
        host=common["host"],
        port=common["port"],
        record=common["record"],
        webhook_auth=_auth(common),
    )
    shown = {
        "PRODUCER_DASHBOARD_WEBHOOK_URL": "{url}/api/webhooks/lots",
        "PRODUCER_DASHBOARD_WEBHOOK_SECRET = BUYER_WEBHOOK_SECRET": sim.secret,
        **{f"producer operator token ({a})": t for a, t in sim.producer_tokens.items()},
    }
    _run(sim, shown, common["duration"])


@simulate.command("faults")
def list_faults() -> None:
    """List every fault a plan (or --fault) can name, and what it does."""
    from lotflow.simulators.faults import describe_faults

    section = ""
    for where, name, what in describe_faults():
        if where != section:
            section = where
            title = (
                "on webhooks sent (buyer simulator)" if where == "webhooks" else "on answers given"
            )
            click.echo(f"{where}: faults {title}")
        click.echo(f"  {name:<16} {what}")


def _auth(common: dict[str, Any]) -> str:
    return "legacy-bearer" if common["legacy_bearer"] else "standard"


def _plan(common: dict[str, Any]) -> Any:
    from lotflow.simulators.faults import FaultPlan, load_fault_plan, plan_from_flags

    file_plan = load_fault_plan(common["plan_file"]) if common["plan_file"] else FaultPlan()
    flag_plan = plan_from_flags(common["flags"], common["seed"])
    return FaultPlan(
        seed=file_plan.seed if common["plan_file"] else flag_plan.seed,
        webhooks=file_plan.webhooks + flag_plan.webhooks,
        answers=file_plan.answers + flag_plan.answers,
    )


def _checked_url(flag: str, url: str) -> None:
    """Refuse a URL that is not http(s) with a host (exit 2)."""
    parsed = httpx.URL(url) if "://" in url else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(
            f"{flag} {url!r}: expected the portal's base URL, e.g. http://localhost:3000"
        )


def _probe(flag: str, url: str) -> None:
    """Refuse a URL that is not http(s) or where nothing answers (exit 2)."""
    _checked_url(flag, url)
    try:
        httpx.get(url, timeout=3.0)
    except httpx.HTTPError as exc:
        raise ConfigError(
            f"{flag} {url}: nothing answers there ({type(exc).__name__}); expected your running "
            "portal's base URL"
        ) from None


def _run(sim: Any, shown: dict[str, str], duration: float | None) -> None:
    sim.state.findings.listen(
        lambda f: click.secho(f.line(), fg="yellow" if f.severity == "deviation" else "red")
    )
    # SIGTERM (a CI job's `kill`, `docker stop`) arrives as an interrupt, as Ctrl-C does
    # (lotflow.interrupts, taken before the command starts): the recording and the summary are
    # still written
    sim.start()
    try:
        click.echo(
            f"The {sim.role} simulator is listening on {sim.url} (Ctrl-C or SIGTERM stops it)"
        )
        for name, value in {**shown, "control token (/_lotflow/)": sim.control_token}.items():
            click.echo(f"  {name}: {value.format(url=sim.url)}")
        threading.Event().wait(duration)  # None: until Ctrl-C or SIGTERM
    except KeyboardInterrupt:
        click.echo(f"Stopping ({stopped_by()}).")
    finally:
        sim.stop()
    _summary(sim)


def _summary(sim: Any) -> None:
    findings = sim.findings()
    violations = [f for f in findings if f.severity == "violation"]
    click.echo(
        f"{len(sim.exchanges())} exchanges, {len(violations)} findings, "
        f"{len(findings) - len(violations)} deviations"
    )
    if sim.record_path is not None:
        click.echo(f"Recording written to {sim.record_path}")
    sys.exit(EXIT_FAILED if violations else EXIT_OK)
