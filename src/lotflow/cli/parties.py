"""The options that name two running parties and the operators' credentials on each, shared by
the commands that drive both portals (``scenario run``, ``explore``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from lotflow.errors import ConfigError

__all__ = ["party_options", "producer_tokens"]

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
