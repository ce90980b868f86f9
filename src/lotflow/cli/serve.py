"""``lotflow serve``: run a reference portal with uvicorn."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import click

from lotflow.cli.portals import PORTAL_NAMES, build_portal

DATABASE = click.option(
    "--database-url",
    metavar="URL",
    help=(
        "SQLAlchemy database URL (default: LOTFLOW_DATABASE_URL, else a SQLite file in the "
        "current folder)."
    ),
)


class _FaultOption(click.Option):
    """``--fault``: its help lists the catalogue, read only when help is shown."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from lotflow.reference.faults import CATALOGUE

        names = ", ".join(f"{f.name} ({f.portal})" for f in CATALOGUE.values())
        self.help = f"Build in a deliberate fault (repeatable; off unless named): {names}."
        return super().get_help_record(ctx)


@click.command()
@click.argument("portal", type=click.Choice(PORTAL_NAMES))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=0,
    type=click.IntRange(0, 65535),
    help="Port (0 picks a free one, and the URL is printed).",
)
@DATABASE
@click.option(
    "--demo",
    is_flag=True,
    help=(
        "Generate any missing key, secret or operator token and print them (never for production)."
    ),
)
@click.option("--fault", "faults", multiple=True, metavar="NAME", cls=_FaultOption)
def serve(
    portal: str,
    host: str,
    port: int,
    database_url: str | None,
    demo: bool,
    faults: tuple[str, ...],
) -> None:
    """Run the reference buyer or producer portal.

    Configuration comes from the portals' own environment variables (PRODUCER_API_KEY,
    PRODUCER_DASHBOARD_WEBHOOK_URL, PRODUCER_DASHBOARD_WEBHOOK_SECRET for the buyer;
    NEXT_PUBLIC_BUYER_DASHBOARD_URL, BUYER_API_KEY, BUYER_WEBHOOK_SECRET,
    MARKETPLACE_WEBHOOK_SECRET for the producer) and LOTFLOW_* for the rest; see the README. A
    portal with a missing key, secret or operator list refuses to start (exit 2) unless --demo.
    """
    env: dict[str, str] = dict(os.environ)
    if database_url:
        env["LOTFLOW_DATABASE_URL"] = database_url
    app, generated = build_portal(portal, env, demo=demo, faults=faults)
    _print_generated(portal, generated)
    _run(app, host, port, portal)


def _print_generated(portal: str, generated: Mapping[str, str]) -> None:
    if not generated:
        return
    click.secho(f"Demo mode: generated for the {portal} portal (not for production):", fg="yellow")
    for name, value in generated.items():
        click.echo(f"  {name}={value}")


def _run(app: Any, host: str, port: int, portal: str) -> None:
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="info", server_header=False)
    server = uvicorn.Server(config)
    click.echo(
        f"Starting the reference {portal} portal on http://{host}:{port or '<free port>'} "
        f"(Ctrl-C stops it)"
    )
    try:
        server.run()  # on Ctrl-C uvicorn shuts down cleanly, then raises the interrupt again
    except KeyboardInterrupt:
        click.echo(f"Stopped the reference {portal} portal.")
        sys.exit(130)
