"""The pacticipants of lotflow's pacts and where the pact files live.

Two pacts, one per kind of traffic, so that each can be published, verified and gated alone:
the producer portal's REST calls (``producer-portal`` → ``buyer-portal``) and the webhooks it
receives (``producer-portal`` → ``buyer-portal-webhooks``, the buyer's sender of signed events).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CONSUMER",
    "DEFAULT_PACTS_DIR",
    "HTTP_PROVIDER",
    "MESSAGE_PROVIDER",
    "pact_file",
]

CONSUMER = "producer-portal"
HTTP_PROVIDER = "buyer-portal"
MESSAGE_PROVIDER = "buyer-portal-webhooks"
DEFAULT_PACTS_DIR = Path("contracts") / "pacts"


def pact_file(folder: Path, provider: str, consumer: str = CONSUMER) -> Path:
    """Where Pact writes the pact between ``consumer`` and ``provider`` in ``folder``."""
    return folder / f"{consumer}-{provider}.json"
