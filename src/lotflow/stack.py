"""Both reference portals and the webhook tap, started together on free ports.

Used by ``lotflow demo``, ``lotflow serve pair`` and the tests that run the scenario catalogue.
Credentials are generated for the run and shared by both portals, so the secrets match by
construction. In *pair* mode (``tap_port`` given) the stack starts no tap of its own: the
buyer's webhooks go to ``http://host:tap_port``, where ``lotflow scenario run --tap-port``
serves its tap, and :meth:`ReferenceStack.pair_env` says everything ``scenario run`` and a
joining portal need.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from lotflow.db import sqlite_url
from lotflow.engine.runner import Parties
from lotflow.engine.tap import WebhookTap
from lotflow.ids import new_object_id
from lotflow.serving import ServerThread
from lotflow.signing import new_webhook_secret

PRODUCER_ORGS = {"alpha": "Iberia Biofuels S.L.", "beta": "Baltic Renewables AB"}
BUYER_ORG = "Nordic Air Fuel Procurement"


@dataclass(frozen=True)
class Credentials:
    """Keys, secrets and operator tokens for one run (generated; never reuse them)."""

    api_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    webhook_secret: str = field(default_factory=new_webhook_secret)
    buyer_org: str = field(default_factory=new_object_id)
    buyer_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    producer_orgs: dict[str, str] = field(
        default_factory=lambda: {a: new_object_id() for a in PRODUCER_ORGS}
    )
    producer_tokens: dict[str, str] = field(
        default_factory=lambda: {a: secrets.token_urlsafe(24) for a in PRODUCER_ORGS}
    )

    def shown(self) -> dict[str, str]:
        """What a person needs to call the portals by hand."""
        return {
            "PRODUCER_API_KEY = BUYER_API_KEY": self.api_key,
            "PRODUCER_DASHBOARD_WEBHOOK_SECRET = BUYER_WEBHOOK_SECRET": self.webhook_secret,
            f"buyer operator token ({BUYER_ORG})": self.buyer_token,
            **{
                f"producer operator token {alias} ({PRODUCER_ORGS[alias]})": t
                for alias, t in self.producer_tokens.items()
            },
        }


LOCAL_ONLY = {"LOTFLOW_AUTH_FAILURE_LIMIT": "0"}
"""What a local try-out (`lotflow serve pair`, `serve … --demo`, the demo's stack) sets: no limit
on failed authentications, since `lotflow verify` against it sends hundreds of wrong and missing
keys on purpose (a portal started from its own variables keeps its limit)."""
LOCAL_ONLY_SAID = ", ".join(f"{name}={value}" for name, value in LOCAL_ONLY.items())
"""How :data:`LOCAL_ONLY` is printed."""


class ReferenceStack:
    """Tap → buyer → producer, in that order (each needs the previous one's URL).

    ``producer_env`` overrides the producer's variables (a test gives it a wrong secret);
    ``producer_faults`` builds deliberate faults into the producer (``serve producer --fault``).
    """

    def __init__(
        self,
        workdir: Path,
        credentials: Credentials | None = None,
        *,
        backoff_base: float = 0.2,
        host: str = "127.0.0.1",
        buyer_port: int = 0,
        producer_port: int = 0,
        tap_port: int | None = None,
        producer_env: dict[str, str] | None = None,
        producer_faults: Sequence[str] = (),
    ) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.credentials = credentials or Credentials()
        self.backoff_base = backoff_base
        self.host, self.ports = host, {"buyer": buyer_port, "producer": producer_port}
        self.tap_port = tap_port
        self.producer_overrides = producer_env or {}
        self.producer_faults = tuple(producer_faults)
        self.tap = WebhookTap()
        self._servers: list[ServerThread] = []
        self.buyer_url = self.producer_url = self.tap_url = ""

    def start(self) -> ReferenceStack:
        from lotflow.reference.buyer.app import create_app as buyer_app
        from lotflow.reference.buyer.settings import BuyerSettings
        from lotflow.reference.producer.app import create_app as producer_app
        from lotflow.reference.producer.settings import ProducerSettings

        try:
            if self.tap_port is None:
                self.tap_url = self._serve(self.tap.app, 0)
            else:
                self.tap_url = f"http://{self.host}:{self.tap_port}"
            buyer = buyer_app(BuyerSettings.from_env(self._buyer_env()))
            self.buyer_url = self._serve(buyer, self.ports["buyer"])
            producer = producer_app(
                ProducerSettings.from_env(self._producer_env()), faults=self.producer_faults
            )
            self.producer_url = self._serve(producer, self.ports["producer"])
        except BaseException:
            self.stop()
            raise
        self.tap.forward_to = self.producer_url
        return self

    def _serve(self, app: Any, port: int) -> str:
        server = ServerThread(app, host=self.host, port=port).start()
        self._servers.append(server)
        return server.url

    def pair_env(self) -> dict[str, str]:
        """What ``lotflow scenario run --env-file`` reads, and the variables a real producer
        portal sets to join this buyer (``serve producer --env-file`` reads them too)."""
        c = self.credentials
        tokens = ",".join(f"{alias}={token}" for alias, token in c.producer_tokens.items())
        return {
            "LOTFLOW_BUYER_URL": self.buyer_url,
            "LOTFLOW_PRODUCER_URL": self.producer_url,
            "LOTFLOW_BUYER_TOKEN": c.buyer_token,
            "PRODUCER_API_KEY": c.api_key,
            "PRODUCER_DASHBOARD_WEBHOOK_SECRET": c.webhook_secret,
            "LOTFLOW_PRODUCER_TOKENS": tokens,
            "LOTFLOW_TAP_PORT": str(self.tap_port or ""),
            "NEXT_PUBLIC_BUYER_DASHBOARD_URL": self.buyer_url,
            "BUYER_API_KEY": c.api_key,
            "BUYER_WEBHOOK_SECRET": c.webhook_secret,
            "MARKETPLACE_WEBHOOK_SECRET": c.webhook_secret,
        }

    def _buyer_env(self) -> dict[str, str]:
        c = self.credentials
        return {
            "LOTFLOW_DATABASE_URL": sqlite_url(self.workdir / "buyer.sqlite3"),
            "PRODUCER_API_KEY": c.api_key,
            "PRODUCER_DASHBOARD_WEBHOOK_URL": f"{self.tap_url}/api/webhooks/lots",
            "PRODUCER_DASHBOARD_WEBHOOK_SECRET": c.webhook_secret,
            "LOTFLOW_BUYER_OPERATORS": json.dumps(
                [{"orgId": c.buyer_org, "name": BUYER_ORG, "token": c.buyer_token}]
            ),
            "LOTFLOW_WEBHOOK_BACKOFF_BASE": str(self.backoff_base),
            "LOTFLOW_WEBHOOK_BACKOFF_CAP": "2",
            **LOCAL_ONLY,
        }

    def _producer_env(self) -> dict[str, str]:
        c = self.credentials
        operators = [
            {"orgId": c.producer_orgs[a], "name": n, "token": c.producer_tokens[a]}
            for a, n in PRODUCER_ORGS.items()
        ]
        return {
            "LOTFLOW_DATABASE_URL": sqlite_url(self.workdir / "producer.sqlite3"),
            "NEXT_PUBLIC_BUYER_DASHBOARD_URL": self.buyer_url,
            "BUYER_API_KEY": c.api_key,
            "BUYER_WEBHOOK_SECRET": c.webhook_secret,
            "LOTFLOW_PRODUCER_OPERATORS": json.dumps(operators),
            **LOCAL_ONLY,
            **self.producer_overrides,
        }

    def parties(self) -> Parties:
        c = self.credentials
        return Parties(
            self.buyer_url,
            self.producer_url,
            c.buyer_token,
            c.api_key,
            dict(c.producer_tokens),
            self.tap,
            tap_url=self.tap_url,
        )

    def stop(self) -> None:
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()

    def __enter__(self) -> ReferenceStack:
        return self.start()

    def __exit__(
        self, *_exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.stop()
