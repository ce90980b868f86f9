"""``lotflow serve``: run a reference portal, or a working pair of them, with uvicorn."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from lotflow.cli.portals import (
    PORTAL_NAMES,
    PRODUCER_OPERATORS,
    build_portal,
    demo_operator_env,
    operator_tokens_by_alias,
    read_env_file,
    require_free_port,
    write_env_file,
)
from lotflow.interrupts import EXIT_INTERRUPTED

DATABASE = click.option(
    "--database-url",
    metavar="URL",
    help=(
        "SQLAlchemy database URL (default: LOTFLOW_DATABASE_URL, else a SQLite file in the "
        "current folder)."
    ),
)
ENV_FILE = click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=(
        "Read KEY=VALUE lines (e.g. the file `lotflow serve pair` writes) for the variables the "
        "environment does not set; with `pair`, where to write that file."
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
@click.argument("portal", type=click.Choice((*PORTAL_NAMES, "pair")))
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=0,
    type=click.IntRange(0, 65535),
    help="Port (0 picks a free one, and the URL is printed). For `pair`: the buyer's port.",
)
@click.option(
    "--producer-port",
    default=0,
    type=click.IntRange(0, 65535),
    help="For `pair`: the producer's port (0: a free one).",
)
@click.option(
    "--tap-port",
    default=0,
    type=click.IntRange(0, 65535),
    help=(
        "For `pair`: where the buyer sends its webhooks, the port `lotflow scenario run "
        "--tap-port` will serve its tap on (0: a free one, chosen now)."
    ),
)
@DATABASE
@ENV_FILE
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
    producer_port: int,
    tap_port: int,
    database_url: str | None,
    env_file: Path | None,
    demo: bool,
    faults: tuple[str, ...],
) -> None:
    """Run the reference buyer or producer portal, or `pair`: both, already joined.

    Configuration comes from the portals' own environment variables (PRODUCER_API_KEY,
    PRODUCER_DASHBOARD_WEBHOOK_URL, PRODUCER_DASHBOARD_WEBHOOK_SECRET for the buyer;
    NEXT_PUBLIC_BUYER_DASHBOARD_URL, BUYER_API_KEY, BUYER_WEBHOOK_SECRET,
    MARKETPLACE_WEBHOOK_SECRET for the producer) and LOTFLOW_* for the rest; see the README. A
    portal with a missing key, secret or operator list refuses to start (exit 2) unless --demo.
    `lotflow serve pair` generates one set of credentials for both, writes them to --env-file
    (default ./lotflow-pair.env) and prints the `lotflow scenario run` command that uses them.
    A port already in use stops the command before anything starts (exit 2).
    """
    if portal == "pair":
        from lotflow.cli.pair import serve_pair

        if database_url or faults:
            raise click.UsageError(
                "`serve pair` keeps both databases in a temporary folder and has no --fault."
            )
        serve_pair(host, port, producer_port, tap_port, env_file)
        return
    require_free_port(host, port, f"the {portal} portal")
    env = {**read_env_file(env_file), **os.environ} if env_file else dict(os.environ)
    if database_url:
        env["LOTFLOW_DATABASE_URL"] = database_url
    made = demo_operator_env(env) if demo and portal == "producer" else {}
    from lotflow.stack import LOCAL_ONLY, LOCAL_ONLY_SAID

    unlimited = demo and not LOCAL_ONLY.keys() & env.keys()  # unless the user set the limit
    if unlimited:  # a local try-out: verify's auth probes must not lock its own client out
        made |= LOCAL_ONLY
    app, generated = build_portal(portal, {**made, **env}, demo=demo, faults=faults)
    _print_generated(portal, generated)
    if unlimited:
        click.echo(
            f"  {LOCAL_ONLY_SAID} (no limit on failed authentications in demo mode; "
            "set it to keep one)"
        )
    for alias, token in operator_tokens_by_alias(made.get(PRODUCER_OPERATORS, "")).items():
        click.echo(f"  producer operator {alias}: token={token}  (--producer-token {alias}=…)")
    run_app(app, host, port, f"reference {portal} portal")


def _print_generated(portal: str, generated: Mapping[str, str]) -> None:
    if not generated:
        return
    click.secho(f"Demo mode: generated for the {portal} portal (not for production):", fg="yellow")
    for name, value in generated.items():
        click.echo(f"  {name}={value}")


def run_app(app: Any, host: str, port: int, what: str) -> None:
    """Serve ``app`` in the foreground until Ctrl-C (exit 130)."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="info", server_header=False)
    server = uvicorn.Server(config)
    click.echo(f"Starting the {what} on http://{host}:{port or '<free port>'} (Ctrl-C stops it)")
    try:
        server.run()  # on Ctrl-C uvicorn shuts down cleanly, then raises the interrupt again
    except KeyboardInterrupt:
        click.echo(f"Stopped the {what}.")
        sys.exit(EXIT_INTERRUPTED)


__all__ = ["run_app", "serve", "write_env_file"]
