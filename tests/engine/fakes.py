"""A tiny fake marketplace: a buyer portal and a producer portal as functions from request to
response (served to the runner through ``httpx.MockTransport``), with the buyer delivering its
webhooks through a real :class:`WebhookTap` driven in-process.

Just enough of the workflow to exercise the runner: lots are created and published, a producer
bids through its portal (which submits the bid to the buyer), the buyer accepts. Switches make
the fakes misbehave on purpose.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from lotflow.engine.operations import known_operations, operation_index
from lotflow.engine.runner import Parties, Runner
from lotflow.engine.tap import WebhookTap
from lotflow.openapi import load_portal_spec

BUYER_URL = "http://buyer.test"
PRODUCER_URL = "http://producer.test"
BUYER_TOKEN = "buyer-operator-token"
API_KEY = "producer-api-key"
PRODUCER_TOKENS = {"alpha": "alpha-operator-token", "beta": "beta-operator-token"}
MAPPING: dict[str, dict[str, str | None]] = {
    "lot": {"draft": None, "published": "open"},
    "bid": {"pending": "submitted", "accepted": "won", "rejected": "lost"},
}

OPERATIONS = {
    op_id: ref
    for op_id, ref in operation_index(
        {portal: load_portal_spec(portal) for portal in ("buyer", "producer")}
    ).items()
    if op_id
    in {
        "createLot",
        "publishLot",
        "getLot",
        "submitBid",
        "getBid",
        "decideBid",
        "getMarketplaceLot",
        "submitProducerBid",
        "getProducerBid",
        "receiveLotWebhook",
    }
}  # the fakes serve these operations, where the spec puts them
KNOWN = known_operations(OPERATIONS)

Handler = Callable[..., httpx.Response]


def reply(status: int, body: Any = None) -> httpx.Response:
    return httpx.Response(status, json=body)


@dataclass
class Pending:
    webhook_id: str
    path: str
    payload: dict[str, Any]


@dataclass
class FakeMarketplace:
    """Both fake portals, their state, the tap between them and the buyer's webhook dispatcher."""

    producer_ignores_bid_events: bool = False
    duplicate_events: bool = False
    unreachable: set[str] = field(default_factory=set)  # hosts that refuse connections
    lots: dict[str, dict[str, Any]] = field(default_factory=dict)
    bids: dict[str, dict[str, Any]] = field(default_factory=dict)
    market_lots: dict[str, dict[str, Any]] = field(default_factory=dict)
    producer_bids: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tap = WebhookTap(PRODUCER_URL, transport=httpx.MockTransport(self.producer))
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._outbox: list[Pending] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._dispatch, daemon=True)

    # ---------------------------------------------------------------- plumbing
    def route(self, request: httpx.Request) -> httpx.Response:
        """The runner's transport: buyer.test and producer.test."""
        if request.url.host in self.unreachable:
            raise httpx.ConnectError("connection refused", request=request)
        self.requests.append(request)
        portal = self.buyer if request.url.host == "buyer.test" else self.producer
        with self._lock:  # the dispatcher thread delivers webhooks meanwhile
            return portal(request)

    def parties(self, *, tap: bool = True) -> Parties:
        return Parties(
            BUYER_URL,
            PRODUCER_URL,
            BUYER_TOKEN,
            API_KEY,
            PRODUCER_TOKENS,
            self.tap if tap else None,
            OPERATIONS,
        )

    def runner(self, **options: Any) -> Runner:
        options.setdefault("settle", 0.1)
        return Runner(
            options.pop("parties", None) or self.parties(),
            status_mapping=MAPPING,
            transport_factory=lambda: httpx.MockTransport(self.route),
            **options,
        )

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    @contextmanager
    def running(self) -> Iterator[FakeMarketplace]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._wake.set()
            self._thread.join(5)

    # ---------------------------------------------------------------- the buyer's outbox
    def emit(self, path: str, payload: dict[str, Any]) -> None:
        copies = 2 if self.duplicate_events else 1
        with self._lock:
            for _ in range(copies):
                self._outbox.append(Pending(self.new_id("msg_"), path, payload))
        self._wake.set()

    def _dispatch(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.02)  # a retry interval, as a real dispatcher has
            self._wake.clear()
            with self._lock:
                pending = list(self._outbox)
            for item in pending:
                if asyncio.run(self._deliver(item)):
                    with self._lock:
                        self._outbox.remove(item)

    async def _deliver(self, item: Pending) -> bool:
        transport = httpx.ASGITransport(app=self.tap.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://tap.test") as client:
            answer = await client.post(
                item.path,
                content=json.dumps(item.payload),
                headers={"webhook-id": item.webhook_id, "content-type": "application/json"},
            )
        return answer.is_success

    # ---------------------------------------------------------------- the buyer portal
    def buyer(self, request: httpx.Request) -> httpx.Response:
        for method, pattern, handler, auth in self._buyer_routes():
            found = re.fullmatch(pattern, request.url.path)
            if found and request.method == method:
                if request.headers.get(auth[0]) != auth[1]:
                    return reply(401, {"title": "Unauthorized"})
                return handler(request, *found.groups())
        return reply(404, {"title": "Not Found"})

    def _buyer_routes(self) -> list[tuple[str, str, Handler, tuple[str, str]]]:
        operator = ("authorization", f"Bearer {BUYER_TOKEN}")
        key = ("x-api-key", API_KEY)
        return [
            ("POST", "/api/lots", self._create_lot, operator),
            ("POST", "/api/lots/([^/]+)/publish", self._publish_lot, operator),
            ("GET", "/api/lots/([^/]+)", self._get_lot, operator),
            ("POST", "/api/bids", self._submit_bid, key),
            ("GET", "/api/bids/([^/]+)", self._get_bid, operator),
            ("PUT", "/api/bids/([^/]+)", self._decide_bid, operator),
        ]

    def _create_lot(self, request: httpx.Request) -> httpx.Response:
        lot = {**json.loads(request.content), "_id": self.new_id("lot"), "status": "draft"}
        self.lots[lot["_id"]] = lot
        return reply(201, {"lot": lot})

    def _publish_lot(self, request: httpx.Request, lot_id: str) -> httpx.Response:
        lot = self.lots.get(lot_id)
        if lot is None:
            return reply(404, {"title": "Not Found"})
        lot["status"] = "published"
        self.emit("/api/webhooks/lots", {"event": "lot.published", "lot": dict(lot)})
        return reply(200, {"lot": lot})

    def _get_lot(self, request: httpx.Request, lot_id: str) -> httpx.Response:
        lot = self.lots.get(lot_id)
        return reply(200, {"lot": lot}) if lot else reply(404, {"title": "Not Found"})

    def _submit_bid(self, request: httpx.Request) -> httpx.Response:
        bid = {**json.loads(request.content), "_id": self.new_id("bid"), "status": "pending"}
        self.bids[bid["_id"]] = bid
        return reply(201, {"bid": bid})

    def _get_bid(self, request: httpx.Request, bid_id: str) -> httpx.Response:
        bid = self.bids.get(bid_id)
        return reply(200, {"bid": bid}) if bid else reply(404, {"title": "Not Found"})

    def _decide_bid(self, request: httpx.Request, bid_id: str) -> httpx.Response:
        bid = self.bids[bid_id]
        bid["status"] = json.loads(request.content)["status"]
        self.emit("/api/webhooks/bids", {"event": f"bid.{bid['status']}", "bid": dict(bid)})
        return reply(200, {"bid": bid})

    # ---------------------------------------------------------------- the producer portal
    def producer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/api/webhooks/"):
            return self._receive(json.loads(request.content))
        if request.headers.get("authorization") not in {
            f"Bearer {t}" for t in PRODUCER_TOKENS.values()
        }:
            return reply(401, {"title": "Unauthorized"})
        if lot := re.fullmatch("/api/marketplace/lots/([^/]+)", path):
            found = self.market_lots.get(lot.group(1))
            return reply(200, {"lot": found}) if found else reply(404, {"title": "Not Found"})
        if bid := re.fullmatch("/api/producer/bids/([^/]+)", path):
            return reply(200, {"bid": self.producer_bids[bid.group(1)]})
        if path == "/api/producer/bids" and request.method == "POST":
            return self._bid(json.loads(request.content))
        return reply(404, {"title": "Not Found"})

    def _receive(self, payload: dict[str, Any]) -> httpx.Response:
        with self._lock:
            return self._apply(payload)

    def _apply(self, payload: dict[str, Any]) -> httpx.Response:
        event = payload["event"]
        if event == "lot.published":
            self.market_lots[payload["lot"]["_id"]] = {**payload["lot"], "status": "open"}
        elif event.startswith("bid.") and not self.producer_ignores_bid_events:
            status = MAPPING["bid"][payload["bid"]["status"]]
            for bid in self.producer_bids.values():
                if bid["buyerBidId"] == payload["bid"]["_id"]:
                    bid["status"] = status
        return reply(200, {"received": True})

    def _bid(self, body: dict[str, Any]) -> httpx.Response:
        submitted = self.buyer(
            httpx.Request(
                "POST", f"{BUYER_URL}/api/bids", json=body, headers={"X-API-Key": API_KEY}
            )
        )
        buyer_bid = submitted.json()["bid"]
        bid = {
            **body,
            "_id": self.new_id("pbid"),
            "status": "submitted",
            "buyerBidId": buyer_bid["_id"],
        }
        self.producer_bids[bid["_id"]] = bid
        return reply(201, {"bid": bid})
