"""The pacticipants of lotflow's pacts and where the pact files live.

Two pacts, one per kind of traffic, so that each can be published, verified and gated alone:
the producer portal's REST calls (``producer-portal`` → ``buyer-portal``) and the webhooks it
receives (``producer-portal`` → ``buyer-portal-webhooks``, the buyer's sender of signed events).
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from lotflow.errors import ConfigError

__all__ = [
    "CONSUMER",
    "DEFAULT_PACTS_DIR",
    "HTTP_PROVIDER",
    "MESSAGE_PROVIDER",
    "pact_file",
    "read_pact",
]

CONSUMER = "producer-portal"
HTTP_PROVIDER = "buyer-portal"
MESSAGE_PROVIDER = "buyer-portal-webhooks"
DEFAULT_PACTS_DIR = Path(str(files("lotflow.contracts"))) / "pacts"
"""The committed pacts, where lotflow is installed (in a checkout: ``contracts/pacts``)."""


def pact_file(folder: Path, provider: str, consumer: str = CONSUMER) -> Path:
    """Where Pact writes the pact between ``consumer`` and ``provider`` in ``folder``."""
    return folder / f"{consumer}-{provider}.json"


def read_pact(path: Path) -> dict[str, Any]:
    """The pact file at ``path`` as data; a ``ConfigError`` naming it when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} is not a readable pact file (JSON): {exc}.") from exc
    if not isinstance(data, dict) or not {"consumer", "provider", "interactions"} <= set(data):
        raise ConfigError(f"{path} is not a pact file: expected consumer, provider, interactions.")
    return data
