"""Building a reference portal from an environment (used by ``lotflow serve``), and the small
pieces the serving commands share: env files, free-port checks, demo operators by alias."""

from __future__ import annotations

import errno
import json
import secrets
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lotflow.doctor.envfile import read_env_file as dotenv_file
from lotflow.errors import ConfigError
from lotflow.ids import new_object_id
from lotflow.stack import PRODUCER_ORGS

PORTAL_NAMES = ("buyer", "producer")
PRODUCER_OPERATORS = "LOTFLOW_PRODUCER_OPERATORS"


def build_portal(
    name: str, env: Mapping[str, str], *, demo: bool, faults: Sequence[str] = ()
) -> tuple[Any, Mapping[str, str]]:
    """The app of the named reference portal (with deliberate ``faults``, if named) and the
    settings generated in demo mode."""
    if name == "producer" and demo and not env.get("NEXT_PUBLIC_BUYER_DASHBOARD_URL"):
        raise ConfigError(
            "--demo generates the producer's keys, secrets and operators, but not the buyer "
            "portal it talks to: set NEXT_PUBLIC_BUYER_DASHBOARD_URL (and the buyer's "
            "BUYER_API_KEY and BUYER_WEBHOOK_SECRET), give --env-file with the file `lotflow "
            "serve pair` writes, or start both portals already joined with `lotflow serve pair`."
        )
    try:
        return _build(name, env, demo=demo, faults=faults)
    except ModuleNotFoundError as exc:
        raise _missing_driver(env, exc) from None


def _build(
    name: str, env: Mapping[str, str], *, demo: bool, faults: Sequence[str]
) -> tuple[Any, Mapping[str, str]]:
    if name == "buyer":
        from lotflow.reference.buyer.app import create_app as buyer_app
        from lotflow.reference.buyer.settings import BuyerSettings

        buyer = BuyerSettings.from_env(env, demo=demo)
        return buyer_app(buyer, faults=faults), buyer.generated
    from lotflow.reference.producer.app import create_app as producer_app
    from lotflow.reference.producer.settings import ProducerSettings

    producer = ProducerSettings.from_env(env, demo=demo)
    return producer_app(producer, faults=faults), producer.generated


def _missing_driver(env: Mapping[str, str], exc: ModuleNotFoundError) -> Exception:
    url = env.get("LOTFLOW_DATABASE_URL", "")
    if url.split(":", 1)[0].split("+", 1)[0] in ("postgres", "postgresql"):
        return ConfigError(
            f"LOTFLOW_DATABASE_URL is a PostgreSQL URL but its driver is not installed "
            f"({exc.name} is missing): install the postgres extra, e.g. "
            "pip install 'lotflow[postgres]' (or pip install -e '.[postgres]' in a clone)"
        )
    return exc


def demo_operator_env(env: Mapping[str, str]) -> dict[str, str]:
    """Producer operators for demo mode, one per scenario alias, each named with its alias, so
    the printed tokens say which ``--producer-token ALIAS=`` they are (nothing when set)."""
    if env.get(PRODUCER_OPERATORS):
        return {}
    operators = [
        {"orgId": new_object_id(), "name": f"{org} ({alias})", "token": secrets.token_urlsafe(24)}
        for alias, org in PRODUCER_ORGS.items()
    ]
    return {PRODUCER_OPERATORS: json.dumps(operators)}


def operator_tokens_by_alias(raw: str) -> dict[str, str]:
    """alias → token of an operator list made by :func:`demo_operator_env` (first = alpha)."""
    aliases = list(PRODUCER_ORGS)
    entries = json.loads(raw) if raw else []
    return {aliases[i]: str(e.get("token")) for i, e in enumerate(entries) if i < len(aliases)}


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of a dotenv file (the doctor's reader: quotes, ``export``, comments);
    ConfigError naming a line the dotenv syntax cannot read."""
    found = dotenv_file(path)
    if found.unparsed:
        raise ConfigError(f"{path}:{found.unparsed[0]}: not a KEY=VALUE line")
    return dict(found.values)


def write_env_file(path: Path, values: Mapping[str, str], heading: str) -> None:
    """Write ``values`` as ``KEY=VALUE`` lines under a comment, readable by its owner only."""
    lines = [f"# {line}" for line in heading.splitlines()]
    lines += [f"{key}={value}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


def require_free_port(host: str, port: int, what: str) -> None:
    """ConfigError (exit 2) when ``port`` on ``host`` cannot be bound (0 is always free)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is in use, so {what} cannot listen there: stop what "
                    "holds it or choose another port (0 picks a free one)"
                ) from None
            raise ConfigError(
                f"cannot listen on {host}:{port} for {what}: {exc.strerror}"
            ) from None


def free_port(host: str) -> int:
    """A port free on ``host`` right now (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
