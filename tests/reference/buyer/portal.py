"""The reference buyer in-process for tests: settings, a recording webhook receiver, and a
``Portal`` that speaks both audiences (operator tokens and the producer key).

Every test gets its own database: SQLite under its ``tmp_path``, or, when
``LOTFLOW_TEST_POSTGRES_URL`` names a PostgreSQL server (e.g.
``postgresql://postgres@127.0.0.1:5432/postgres``), a fresh database on it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from lotflow.reference.buyer import BuyerSettings, Dispatcher, create_app
from lotflow.reference.buyer.context import BuyerContext
from sqlalchemy import Table, func, select

from lotflow.clock import FakeClock
from lotflow.db import sqlite_url

API_KEY = "producer-key-0123456789"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ORG_A, ORG_B = "6750a0ffe4b0f1a2b3c4d001", "6750a0ffe4b0f1a2b3c4d002"
TOKENS = {"a": "operator-token-a", "b": "operator-token-b"}
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
POSTGRES = os.environ.get("LOTFLOW_TEST_POSTGRES_URL", "")
LOT: dict[str, Any] = {
    "title": "HEFA-SPK SAF, 500,000 gal, Rotterdam FOB",
    "description": "Neat HEFA-SPK from used cooking oil.",
    "type": "HEFA-SPK",
    "volume": {"amount": 500000, "unit": "gallons"},
    "pricing": {"price": 3250000, "currency": "USD", "pricePerUnit": 6.5, "paymentTerms": "Net 30"},
    "compliance": {"standards": ["ISCC-EU", "CORSIA"]},
}


_MADE: set[str] = set()  # the PostgreSQL databases made by this worker and not dropped yet


def _admin(*statements: str) -> None:
    import psycopg  # only needed for the PostgreSQL run

    with psycopg.connect(POSTGRES.replace("+psycopg", ""), autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


def _postgres_name(tmp_path: Path) -> str:
    return "lotflow_" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:16]  # noqa: S324 - a name


@functools.cache
def database_url(tmp_path: Path) -> str:
    """The database of one test (the same one for every call of the test)."""
    if not POSTGRES:
        return sqlite_url(tmp_path / "buyer.sqlite3")
    name = _postgres_name(tmp_path)
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    _MADE.add(name)
    return POSTGRES.rsplit("/", 1)[0] + "/" + name


def drop_database(tmp_path: Path) -> None:
    """Drop the test's PostgreSQL database if it made one: a server must not fill up with them
    (3,000 left over made a crashed server's recovery outlast pg_ctl's wait)."""
    name = _postgres_name(tmp_path)
    if name in _MADE:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _MADE.discard(name)


def drop_left_over_databases() -> None:
    """Drop the databases still standing (those made for a module's app at import)."""
    if _MADE:
        _admin(*(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in sorted(_MADE)))
        _MADE.clear()


def buyer_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A complete environment for the buyer portal on the test's database."""
    operators = [
        {"orgId": ORG_A, "name": "Nordic Air", "token": TOKENS["a"]},
        {"orgId": ORG_B, "name": "Alpine Air", "token": TOKENS["b"]},
    ]
    return {
        "LOTFLOW_DATABASE_URL": database_url(tmp_path),
        "PRODUCER_API_KEY": API_KEY,
        "PRODUCER_DASHBOARD_WEBHOOK_URL": "http://producer.test/api/webhooks/lots",
        "PRODUCER_DASHBOARD_WEBHOOK_SECRET": SECRET,
        "LOTFLOW_BUYER_OPERATORS": json.dumps(operators),
        **extra,
    }


def bid_body(
    lot_id: str, external: str = "ext-1", amount: float = 100000, per_unit: float = 6.3
) -> dict[str, Any]:
    """A consistent bid submission in gallons."""
    return {
        "lotId": lot_id,
        "volume": {"amount": amount, "unit": "gallons"},
        "pricing": {
            "price": round(amount * per_unit, 2),
            "currency": "USD",
            "pricePerUnit": per_unit,
        },
        "bidderId": "6750a099e4b0f1a2b3c4dabc",
        "bidderName": "Iberia Biofuels S.L.",
        "externalBidId": external,
    }


class FixedRandom:
    """A jitter source that always draws the same fraction."""

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction

    def random(self) -> float:
        return self.fraction


@dataclass
class Receiver:
    """A webhook receiver that records every request and answers from a script (then 200)."""

    script: list[int] = field(default_factory=list)
    headers: dict[int, dict[str, str]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.script.pop(0) if self.script else 200
        return httpx.Response(status, json={"received": True}, headers=self.headers.get(status, {}))

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def events(self) -> list[str]:
        return [body["event"] for body in self.bodies()]


@dataclass
class Portal:
    """The app, its clock, a receiver, and an in-process client."""

    app: FastAPI
    clock: FakeClock
    receiver: Receiver
    client: httpx.AsyncClient

    @property
    def ctx(self) -> BuyerContext:
        context: BuyerContext = self.app.state.buyer
        return context

    @property
    def settings(self) -> BuyerSettings:
        return self.ctx.settings

    def dispatcher(
        self, transport: httpx.AsyncBaseTransport | None = None, **options: Any
    ) -> Dispatcher:
        """A dispatcher over the portal's database that sends to the receiver."""
        options.setdefault("rng", FixedRandom(1.0))
        sink = transport or httpx.MockTransport(self.receiver.handle)
        return Dispatcher(self.ctx.db, self.settings, self.clock, sink, **options)

    async def op(self, method: str, url: str, org: str = "a", **kwargs: Any) -> httpx.Response:
        """A call with an operator token of organisation ``org`` (``a`` or ``b``)."""
        headers = {"Authorization": f"Bearer {TOKENS[org]}", **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def producer(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A call with the producer API key."""
        headers = {"X-API-Key": API_KEY, **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def draft_lot(self, org: str = "a", **changes: Any) -> dict[str, Any]:
        response = await self.op("POST", "/api/lots", org=org, json={**LOT, **changes})
        assert response.status_code == 201, response.text
        return dict(response.json()["lot"])

    async def published_lot(self, org: str = "a", **changes: Any) -> dict[str, Any]:
        lot = await self.draft_lot(org, **changes)
        response = await self.op("POST", f"/api/lots/{lot['_id']}/publish", org=org)
        assert response.status_code == 200, response.text
        return dict(response.json()["lot"])

    async def bid(
        self, lot: Mapping[str, Any], external: str = "ext-1", **changes: Any
    ) -> dict[str, Any]:
        body = {**bid_body(lot["_id"], external), **changes}
        response = await self.producer("POST", "/api/bids", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json()["bid"])

    async def lot(self, lot_id: str) -> dict[str, Any]:
        return dict((await self.op("GET", f"/api/lots/{lot_id}")).json()["lot"])

    async def bid_detail(self, bid_id: str) -> dict[str, Any]:
        return dict((await self.op("GET", f"/api/bids/{bid_id}")).json())

    async def deliveries(self, **query: Any) -> list[dict[str, Any]]:
        found = (await self.op("GET", "/api/webhooks/deliveries", params=query)).json()
        return list(found["deliveries"])

    async def events(self) -> list[str]:
        """Events in the outbox, oldest first."""
        return [d["event"] for d in reversed(await self.deliveries(limit=200))]

    def count(self, table: Table) -> int:
        with self.ctx.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def make_app(tmp_path: Path, clock: FakeClock, **env: str) -> FastAPI:
    """The portal app on a FakeClock, without its background dispatcher."""
    settings = BuyerSettings.from_env(buyer_env(tmp_path, **env))
    return create_app(settings, clock=clock, dispatcher_enabled=False)
