"""The options that name two running parties and the operators' credentials on each, shared by
the commands that drive both portals (``scenario run``, ``explore``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from lotflow.cli.portals import read_env_file
from lotflow.errors import ConfigError

__all__ = ["env_file_option", "party_options", "producer_tokens"]

Command = TypeVar("Command", bound=Callable[..., Any])

_OPTIONS = (
    click.option(
        "--buyer",
        "buyer_url",
        envvar="LOTFLOW_BUYER_URL",
        required=True,
        help="Base URL of the buyer portal (env LOTFLOW_BUYER_URL).",
    ),
    click.option(
        "--producer",
        "producer_url",
        envvar="LOTFLOW_PRODUCER_URL",
        required=True,
        help="Base URL of the producer portal (env LOTFLOW_PRODUCER_URL).",
    ),
    click.option(
        "--buyer-token",
        envvar="LOTFLOW_BUYER_TOKEN",
        required=True,
        help="A buyer operator token (env LOTFLOW_BUYER_TOKEN).",
    ),
    click.option(
        "--producer-token",
        "producer_tokens",
        multiple=True,
        metavar="ALIAS=TOKEN",
        help=(
            "A producer operator token per alias (alpha, beta, ...), e.g. alpha=... "
            "(repeatable; env LOTFLOW_PRODUCER_TOKENS, comma-separated)."
        ),
    ),
)


def _env_file_defaults(ctx: click.Context, _param: click.Parameter, path: Path | None) -> None:
    """Options not given on the command line or in the environment come from the env file."""
    if path is None:
        return
    values = read_env_file(path)
    defaults: dict[str, object] = {
        option: values[name] for name, option in ENV_FILE_OPTIONS.items() if name in values
    }
    if values.get("LOTFLOW_PRODUCER_TOKENS"):
        defaults["producer_tokens"] = values["LOTFLOW_PRODUCER_TOKENS"].split(",")
    if values.get("LOTFLOW_TAP_PORT"):  # the buyer sends its webhooks there: a tap must run
        defaults["use_tap"] = True
    ctx.default_map = {**(ctx.default_map or {}), **defaults}


ENV_FILE_OPTIONS = {
    "LOTFLOW_BUYER_URL": "buyer_url",
    "LOTFLOW_PRODUCER_URL": "producer_url",
    "LOTFLOW_BUYER_TOKEN": "buyer_token",
    "PRODUCER_API_KEY": "api_key",
    "PRODUCER_DASHBOARD_WEBHOOK_SECRET": "webhook_secret",
    "LOTFLOW_TAP_PORT": "tap_port",
}
"""The variables of the file `lotflow serve pair` writes, by the option each sets (a command
without that option ignores it)."""

env_file_option = click.option(
    "--env-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    is_eager=True,
    expose_value=False,
    callback=_env_file_defaults,
    help=(
        "Read the options below from KEY=VALUE lines (the file `lotflow serve pair` writes: "
        "LOTFLOW_BUYER_URL, LOTFLOW_PRODUCER_URL, LOTFLOW_BUYER_TOKEN, PRODUCER_API_KEY, "
        "LOTFLOW_PRODUCER_TOKENS, PRODUCER_DASHBOARD_WEBHOOK_SECRET, LOTFLOW_TAP_PORT)."
    ),
)


def party_options(command: Command) -> Command:
    """``--buyer``, ``--producer``, ``--buyer-token`` and ``--producer-token``, in that order."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def producer_tokens(values: tuple[str, ...]) -> dict[str, str]:
    """``ALIAS=TOKEN`` values (else ``LOTFLOW_PRODUCER_TOKENS``) by alias; a ``ConfigError``
    naming the value that is not ``ALIAS=TOKEN``."""
    raw = list(values) or [v for v in os.environ.get("LOTFLOW_PRODUCER_TOKENS", "").split(",") if v]
    tokens = {}
    for item in raw:
        alias, sep, token = item.partition("=")
        if not sep or not alias or not token:
            raise ConfigError(f"--producer-token {item!r} is not ALIAS=TOKEN (e.g. alpha=s3cr3t).")
        tokens[alias.strip()] = token.strip()
    return tokens
