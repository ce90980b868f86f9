"""The provider under verification: the reference buyer on a real socket, its webhooks captured.

``reference_buyer(tmp_path, wrap=...)`` serves the reference buyer app (optionally wrapped by a
test, to build a broken buyer without touching the reference portal) under uvicorn on a free
port; its dispatcher sends every webhook into a ``WebhookInbox``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from lotflow.reference.buyer.app import create_app
from lotflow.reference.buyer.settings import BuyerSettings

from lotflow.clock import FakeClock
from lotflow.credentials import BuyerCredentials, Credentials
from lotflow.db import sqlite_url
from lotflow.pact.inbox import WebhookInbox
from lotflow.pact.names import HTTP_PROVIDER, MESSAGE_PROVIDER, pact_file
from lotflow.pact.verify import BuyerTarget
from lotflow.serving import ServerThread

API_KEY = "buyer-side-producer-key-0123"
OPERATOR_TOKEN = "buyer-operator-token-0123"
BUYER_ORG = "6750a0ffe4b0f1a2b3c4d001"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # the spec examples' day: their dates lie ahead
COMMITTED = Path(__file__).resolve().parents[2] / "contracts" / "pacts"
HTTP_PACT = pact_file(COMMITTED, HTTP_PROVIDER)
MESSAGE_PACT = pact_file(COMMITTED, MESSAGE_PROVIDER)

Wrap = Callable[[Any], Any]


def buyer_env(tmp_path: Path) -> dict[str, str]:
    return {
        "LOTFLOW_DATABASE_URL": sqlite_url(tmp_path / "buyer.sqlite3"),
        "PRODUCER_API_KEY": API_KEY,
        "PRODUCER_DASHBOARD_WEBHOOK_URL": "http://producer.test/api/webhooks/lots",
        "PRODUCER_DASHBOARD_WEBHOOK_SECRET": SECRET,
        "LOTFLOW_BUYER_OPERATORS": json.dumps(
            [{"orgId": BUYER_ORG, "name": "Nordic Air", "token": OPERATOR_TOKEN}]
        ),
    }


def credentials() -> BuyerCredentials:
    return BuyerCredentials(
        API_KEY, operator=Credentials({"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    )


@contextmanager
def reference_buyer(
    tmp_path: Path,
    wrap: Wrap | None = None,
    webhooks: Callable[[WebhookInbox], httpx.AsyncBaseTransport] | None = None,
    host: str = "127.0.0.1",
) -> Iterator[BuyerTarget]:
    """The reference buyer served on a free port, as a verification target (``wrap`` wraps
    its app, ``webhooks`` makes the transport its webhooks take into the inbox)."""
    inbox = WebhookInbox()
    settings = BuyerSettings.from_env(buyer_env(tmp_path))
    transport = webhooks(inbox) if webhooks else inbox.transport()
    app = create_app(settings, clock=FakeClock(START), webhook_transport=transport)
    with ServerThread(wrap(app) if wrap else app, host) as server:
        yield BuyerTarget(server.url, credentials(), inbox=inbox, message_timeout=5.0)


@contextmanager
def reference_buyer_over_the_network(tmp_path: Path) -> Iterator[BuyerTarget]:
    """The reference buyer sending its webhooks over HTTP to a receiver on a free port (what
    ``lotflow pact verify --receive-webhooks`` runs for a live buyer)."""
    inbox = WebhookInbox()
    with ServerThread(inbox.app()) as receiver:
        env = buyer_env(tmp_path) | {
            "PRODUCER_DASHBOARD_WEBHOOK_URL": f"{receiver.url}/api/webhooks/lots"
        }
        app = create_app(BuyerSettings.from_env(env), clock=FakeClock(START))
        with ServerThread(app) as server:
            yield BuyerTarget(server.url, credentials(), inbox=inbox, message_timeout=5.0)
