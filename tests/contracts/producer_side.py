"""The consumer under test: the reference producer portal, in-process, on a FakeClock.

Its operator organisation is the bidder of the spec's BidSubmission example, so the bids it sends
are the example's (the pact records what the producer really sends, and that is it). Its buyer URL
points wherever a test says: Pact's mock server for the HTTP pact, a stub for the message tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from lotflow.reference.producer.app import create_app
from lotflow.reference.producer.settings import ProducerSettings

from lotflow.clock import FakeClock
from lotflow.db import sqlite_url
from lotflow.ids import new_event_id
from lotflow.openapi import load_portal_spec
from lotflow.pact.examples import example
from lotflow.signing import signature_headers

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TOKEN = "producer-operator-token"
API_KEY = "producer-api-key-for-pact-tests"
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def bidder() -> dict[str, str]:
    """The producer organisation: the bidder of the BidSubmission example."""
    submission = example(load_portal_spec("buyer"), "BidSubmission")
    return {
        "orgId": submission["bidderId"],
        "name": submission["bidderName"],
        "email": submission["bidderEmail"],
        "token": TOKEN,
    }


@dataclass
class ProducerUnderTest:
    """The producer app, called in-process (each call on an event loop of its own, so that the
    synchronous Pact callbacks can make them), and its clock."""

    app: FastAPI
    clock: FakeClock

    @property
    def context(self) -> Any:
        return self.app.state.context

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://producer.test") as c:
                return await c.request(method, url, **kwargs)

        return asyncio.run(call())

    def op(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        return self.request(method, url, headers=headers, **kwargs)

    def deliver(
        self, path: str, payload: dict[str, Any], webhook_id: str | None = None
    ) -> httpx.Response:
        """A webhook as the buyer sends it: the exact bytes, signed at the clock's time."""
        body = json.dumps(payload).encode()
        msg_id = webhook_id or payload.get("eventId") or new_event_id()
        headers = signature_headers([SECRET], msg_id, body, self.clock)
        return self.request(
            "POST", path, content=body, headers={**headers, "content-type": "application/json"}
        )

    def bid_with_example_terms(self) -> dict[str, Any]:
        """Submit the ProducerBidInput example through the operator API; the stored bid."""
        body = example(load_portal_spec("producer"), "ProducerBidInput")
        response = self.op("POST", "/api/producer/bids", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json()["bid"])

    def marketplace_lot(self, lot_id: str) -> dict[str, Any]:
        response = self.op("GET", f"/api/marketplace/lots/{lot_id}")
        assert response.status_code == 200, response.text
        return dict(response.json()["lot"])

    def my_bid(self, bid_id: str) -> dict[str, Any]:
        response = self.op("GET", f"/api/producer/bids/{bid_id}")
        assert response.status_code == 200, response.text
        return dict(response.json()["bid"])


def producer(
    tmp_path: Path,
    buyer_url: str,
    transport: httpx.BaseTransport | None = None,
) -> ProducerUnderTest:
    env = {
        "LOTFLOW_DATABASE_URL": sqlite_url(tmp_path / "producer.sqlite3"),
        "NEXT_PUBLIC_BUYER_DASHBOARD_URL": buyer_url,
        "BUYER_API_KEY": API_KEY,
        "BUYER_WEBHOOK_SECRET": SECRET,
        "LOTFLOW_PRODUCER_OPERATORS": json.dumps([bidder()]),
        "LOTFLOW_BUYER_RETRIES": "0",
    }
    clock = FakeClock(START)
    app = create_app(ProducerSettings.from_env(env), clock=clock, buyer_transport=transport)
    return ProducerUnderTest(app, clock)


class OutageTransport(httpx.BaseTransport):
    """The network to the buyer, failing the first ``failures`` calls as a refused connection."""

    def __init__(self, failures: int, inner: httpx.BaseTransport | None = None) -> None:
        self.failures = failures
        self.inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.failures > 0:
            self.failures -= 1
            raise httpx.ConnectError("connection refused (test outage)", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def stub_buyer(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(answer)
