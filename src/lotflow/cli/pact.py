"""``lotflow pact``: verify lotflow's pacts against a buyer portal, check pact files against the
spec."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import httpx

from lotflow.credentials import load_buyer_credentials
from lotflow.errors import ConfigError
from lotflow.pact.conformance import check_pact
from lotflow.pact.inbox import WebhookInbox
from lotflow.pact.names import DEFAULT_PACTS_DIR, HTTP_PROVIDER, MESSAGE_PROVIDER, pact_file
from lotflow.pact.results import VerificationReport
from lotflow.pact.verify import BuyerTarget, is_message_pact, verify_buyer
from lotflow.serving import ServerThread

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PACT_FILES = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def pact() -> None:
    """Pact contracts: verify a buyer portal against lotflow's pacts, check pacts against the
    spec (see contracts/README.md)."""


@pact.command()
@click.option(
    "--buyer",
    "buyer_url",
    envvar="LOTFLOW_BUYER_URL",
    required=True,
    help="Base URL of the buyer portal to verify (env LOTFLOW_BUYER_URL).",
)
@click.option(
    "--pact",
    "pacts",
    multiple=True,
    type=PACT_FILES,
    help="A pact file (repeatable). Default: the HTTP pact in contracts/pacts, and "
    "the message pact too with --receive-webhooks.",
)
@click.option(
    "--api-key",
    help="The producer API key the buyer accepts (else BUYER_API_KEY or "
    "PRODUCER_API_KEY from the environment or --credentials).",
)
@click.option("--operator-token", help="A buyer operator token, sent as Authorization: Bearer.")
@click.option(
    "--buyer-header",
    "--operator-header",
    "operator_headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="A header the buyer's own side accepts (repeatable), e.g. a session JWT.",
)
@click.option(
    "--buyer-cookie",
    "--operator-cookie",
    "operator_cookies",
    multiple=True,
    metavar="NAME=VALUE",
    help="A cookie the buyer's own side accepts (repeatable), e.g. __session=<jwt>.",
)
@click.option(
    "--credentials",
    "credentials_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A .env file with the credentials (see contracts/README.md).",
)
@click.option(
    "--state-url",
    help="The team's own provider-state endpoint (Pact's POST {state, params}); "
    "default: states set up through the buyer's operator API.",
)
@click.option(
    "--receive-webhooks",
    metavar="HOST:PORT",
    help="Receive the buyer's webhooks here to verify the message pact (point the "
    "buyer's PRODUCER_DASHBOARD_WEBHOOK_URL at http://HOST:PORT/api/webhooks/lots).",
)
@click.option(
    "--message-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds to wait for each webhook.",
)
@click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML results here."
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write JSON results here.",
)
@click.option("-v", "--verbose", is_flag=True, help="Also print the Pact core's own report.")
def verify(
    buyer_url: str,
    pacts: tuple[Path, ...],
    api_key: str | None,
    operator_token: str | None,
    operator_headers: tuple[str, ...],
    operator_cookies: tuple[str, ...],
    credentials_file: Path | None,
    state_url: str | None,
    receive_webhooks: str | None,
    message_timeout: float,
    junit: Path | None,
    json_out: Path | None,
    verbose: bool,
) -> None:
    """Verify a buyer portal at --buyer against lotflow's pacts.

    Before each interaction its provider state ("a published lot exists", ...) is set up through
    the buyer's operator API with the operator credentials given, or through --state-url.

    Exit codes: 0 every interaction passed, 1 an interaction failed (named, with what did not
    match), 2 a usage error or an unreachable portal.
    """
    credentials = load_buyer_credentials(
        api_key=api_key,
        operator_token=operator_token,
        operator_headers=operator_headers,
        operator_cookies=operator_cookies,
        env=os.environ,
        file=credentials_file,
    )
    credentials.require_key()
    if not state_url and not credentials.has_operator:
        raise ConfigError(
            "Provider states are set up through the buyer's operator API: give --operator-token, "
            "--buyer-header or --buyer-cookie (or LOTFLOW_BUYER_OPERATOR_* in the "
            "environment or --credentials), or the team's own --state-url."
        )
    chosen = list(pacts) or _default_pacts(with_messages=receive_webhooks is not None)
    listen = _host_port(receive_webhooks) if receive_webhooks else None
    _check_reachable(buyer_url)
    target = BuyerTarget(
        buyer_url.rstrip("/"), credentials, state_url=state_url, message_timeout=message_timeout
    )
    if listen:
        target.inbox = WebhookInbox()
        with ServerThread(target.inbox.app(), *listen) as receiver:
            click.echo(f"Receiving the buyer's webhooks at {receiver.url}/api/webhooks/...")
            report = verify_buyer(target, chosen)
    else:
        report = verify_buyer(target, chosen)
    _print(report, verbose)
    if junit:
        report.write_junit(junit)
    if json_out:
        report.write_json(json_out)
    sys.exit(EXIT_OK if report.passed else EXIT_FAILED)


def _default_pacts(*, with_messages: bool) -> list[Path]:
    wanted = [HTTP_PROVIDER, MESSAGE_PROVIDER] if with_messages else [HTTP_PROVIDER]
    found = [pact_file(DEFAULT_PACTS_DIR, provider) for provider in wanted]
    missing = [str(p) for p in found if not p.is_file()]
    if missing:
        raise ConfigError(
            f"No pact file at {', '.join(missing)}: lotflow is installed without its pacts; "
            "give the pact files with --pact."
        )
    return found


def _check_reachable(url: str) -> None:
    try:
        httpx.get(url.rstrip("/") + "/openapi.json", timeout=10.0)
    except httpx.HTTPError as exc:
        raise ConfigError(
            f"The buyer portal at {url} could not be reached ({exc}); expected its base URL, "
            "e.g. http://localhost:3004."
        ) from exc


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"--receive-webhooks {text!r} is not HOST:PORT (e.g. 0.0.0.0:3000).")
    return host, int(port)


def _print(report: VerificationReport, verbose: bool) -> None:
    for result in report.pacts:
        click.echo(f"\n{result.consumer} → {result.provider} ({result.pact})")
        if verbose:
            click.echo(result.output)
        for interaction in result.interactions:
            mark = (
                click.style("✓", fg="green") if interaction.passed else click.style("✗", fg="red")
            )
            given = f" [given {'; '.join(interaction.states)}]" if interaction.states else ""
            click.echo(f"  {mark} {interaction.description}{given}")
            for mismatch in interaction.mismatches:
                click.echo(f"      {mismatch}")
        for error in result.errors:
            click.secho(f"  ✗ {error}", fg="red")
    failed = sum(len(p.failed()) + len(p.errors) for p in report.pacts)
    total = sum(len(p.interactions) for p in report.pacts)
    verdict = "passed" if report.passed else f"{failed} failed"
    click.echo(f"\n{total} interactions verified against {report.provider_url}: {verdict}")


@pact.command()
@click.argument("files", nargs=-1, type=PACT_FILES)
def check(files: tuple[Path, ...]) -> None:
    """Check pact FILES (default: contracts/pacts/*.json) against the OpenAPI documents.

    Exit codes: 0 every interaction agrees with the spec, 1 a disagreement (named), 2 usage.
    """
    chosen = list(files) or sorted(DEFAULT_PACTS_DIR.glob("*.json"))
    if not chosen:
        raise ConfigError(f"No pact files given and none in {DEFAULT_PACTS_DIR}.")
    findings = [finding for path in chosen for finding in check_pact(path)]
    for path in chosen:
        kind = "message" if is_message_pact(path) else "HTTP"
        click.echo(f"{path} ({kind} pact)")
    for finding in findings:
        click.secho(f"  ✗ {finding}", fg="red")
    click.echo(f"{len(findings)} disagreement(s) with the spec")
    sys.exit(EXIT_FAILED if findings else EXIT_OK)
