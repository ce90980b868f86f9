"""The buyer simulator: plays the buyer against a real producer portal.

It serves every operation of ``buyer.yaml`` from real state by running the reference buyer
(``reference/buyer``) behind a front (``front.py``) that checks and records the producer's calls
and answers them as the fault plan says, and it sends the buyer's webhooks, signed, through
:class:`~lotflow.simulators.wire.WebhookWire`, which applies the webhook faults and records
every attempt with the producer's answer. It is driven like a buyer, from Python or from the
control surface (publish / update / withdraw a lot, accept / reject / counter a bid, create a
contract).

    with BuyerSimulator(producer_url="http://localhost:3000", secret="whsec_...") as buyer:
        lot = buyer.publish_lot(title="HEFA-SPK, 500,000 gal")
        ...
        assert buyer.findings() == []
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import httpx
from lotflow.simulators.base import Simulator, checked_secret
from lotflow.simulators.control import InProcessCaller, control_app, json_body
from lotflow.simulators.faults import FaultPlan
from lotflow.simulators.front import Inspected, SimulatorFront
from lotflow.simulators.state import SimulationState
from lotflow.simulators.validation import CallChecker
from lotflow.simulators.wire import WebhookWire
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lotflow.clock import Clock, SystemClock
from lotflow.ids import new_object_id
from lotflow.openapi import resolve
from lotflow.signing import new_webhook_secret

__all__ = ["BuyerSimulator"]

PLACEHOLDER_PRODUCER = "http://producer.invalid"
ORGANISATION = "lotflow buyer simulator"


class BuyerSimulator(Simulator):
    """The buyer, simulated (see the module docstring).

    ``producer_url`` is the producer portal's base URL (settable later, e.g. once the producer
    is started; the buyer's delivery log keeps naming the URL given here); ``secret`` signs
    webhooks (generated when None); ``api_key`` is the key the producer sends (generated when
    None). ``backoff_base``/``webhook_timeout``/``max_attempts``
    are the reference buyer's delivery settings; ``transport`` replaces the network for
    webhooks; ``sleep`` is how delays are waited.
    """

    role = "buyer"
    options: ClassVar[dict[str, str]] = {
        "PRODUCER_API_KEY": "--api-key",
        "PRODUCER_DASHBOARD_WEBHOOK_SECRET": "--secret",
    }

    def __init__(
        self,
        producer_url: str = "",
        *,
        secret: str | None = None,
        api_key: str | None = None,
        plan: FaultPlan | None = None,
        database_url: str | None = None,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        record: Path | None = None,
        webhook_auth: str = "standard",
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        webhook_timeout: float = 10.0,
        max_attempts: int = 8,
        dispatcher_enabled: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            SimulationState(clock or SystemClock(), plan), host=host, port=port, record=record
        )
        from lotflow.reference.buyer.app import create_app
        from lotflow.reference.buyer.settings import BuyerSettings

        self.secret = checked_secret(secret) if secret else new_webhook_secret()
        self.api_key = api_key or secrets.token_urlsafe(24)
        self.operator_token = secrets.token_urlsafe(24)
        env = {
            "LOTFLOW_DATABASE_URL": self._database_url(database_url, "buyer.sqlite3"),
            "PRODUCER_API_KEY": self.api_key,
            # the producer's own URL when known, so that the buyer's delivery log names where
            # webhooks go (scenario run's preflight reads it); the wire sends to producer_url
            "PRODUCER_DASHBOARD_WEBHOOK_URL": (
                f"{producer_url.rstrip('/') or PLACEHOLDER_PRODUCER}/api/webhooks/lots"
            ),
            "PRODUCER_DASHBOARD_WEBHOOK_SECRET": self.secret,
            "LOTFLOW_BUYER_OPERATORS": json.dumps(
                [{"orgId": new_object_id(), "name": ORGANISATION, "token": self.operator_token}]
            ),
            "LOTFLOW_WEBHOOK_AUTH": webhook_auth,
            "LOTFLOW_WEBHOOK_BACKOFF_BASE": str(backoff_base),
            "LOTFLOW_WEBHOOK_BACKOFF_CAP": str(backoff_cap),
            "LOTFLOW_WEBHOOK_TIMEOUT": str(webhook_timeout),
            "LOTFLOW_WEBHOOK_MAX_ATTEMPTS": str(max_attempts),
        }
        self.settings = self._settings(BuyerSettings.from_env, env)
        self.wire = WebhookWire(
            self.state, self.settings.webhook_secrets, inner=transport, sleep=sleep
        )
        self.producer_url = producer_url
        self.portal = create_app(
            self.settings,
            clock=self.state.clock,
            dispatcher_enabled=dispatcher_enabled,
            webhook_transport=self.wire,
        )
        self._checker = CallChecker("buyer")
        self._operator = InProcessCaller(self.portal, self._checker.operations, self.operator_token)
        control = control_app(self.state, self.control_token, self._actions(), self.describe)
        self.app = SimulatorFront(self.portal, control, self._inspect, self.state, sleep=sleep)

    @property
    def producer_url(self) -> str:
        """Where webhooks go (the producer portal's base URL)."""
        return self.wire.target

    @producer_url.setter
    def producer_url(self, url: str) -> None:
        self.wire.target = url.rstrip("/")

    def _described(self) -> dict[str, Any]:
        return {"producer": self.producer_url or None, "webhookAuth": self.settings.webhook_auth}

    # ---------------------------------------------------------------- watching the producer
    def _inspect(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Inspected | None:
        op = self._checker.operation(method, path)
        if op is None:
            if not path.startswith("/api/"):
                return None
            findings = self._checker.check_request(method, path, [], headers, body, "producer")
            return Inspected("call", f"{method} {path}", None, None, findings)
        if not any("producerApiKey" in alternative for alternative in op.security):
            return None  # the buyer's own operator API: not an exchange with the producer
        findings = self._checker.check_request(
            method, path, parse_qsl(query), headers, body, "producer"
        )
        return Inspected("call", op.operation_id, op.operation_id, None, findings)

    # ---------------------------------------------------------------- acting like a buyer
    def default_lot(self) -> dict[str, Any]:
        """A lot to publish: the spec's createLot example (without an expiry date)."""
        schema = resolve(self._checker.spec, self._checker.operations["createLot"].request_schema)
        example = dict(schema["examples"][0])
        example.pop("expiresAt", None)
        return example

    def _actions(self) -> dict[tuple[str, str], Callable[[Request], Awaitable[Response]]]:
        op = self._operator

        async def publish(request: Request) -> Response:
            created = await op.call(
                "createLot", body=self.default_lot() | (await json_body(request) or {})
            )
            if created.status_code != 201:
                return Response(
                    created.content,
                    created.status_code,
                    media_type=created.headers.get("content-type"),
                )
            return await op.answer("publishLot", path={"lotId": created.json()["lot"]["_id"]})

        async def update(request: Request) -> Response:
            return await op.answer(
                "updateLot", path=dict(request.path_params), body=await json_body(request)
            )

        async def withdraw(request: Request) -> Response:
            return await op.answer("deleteLot", path=dict(request.path_params))

        def decide(status: str) -> Callable[[Request], Awaitable[Response]]:
            async def act(request: Request) -> Response:
                body = {"status": status} | (await json_body(request) or {})
                return await op.answer("decideBid", path=dict(request.path_params), body=body)

            return act

        async def counter(request: Request) -> Response:
            return await op.answer(
                "counterBid", path=dict(request.path_params), body=await json_body(request)
            )

        async def contract(request: Request) -> Response:
            return await op.answer("createContract", body=await json_body(request))

        async def bids(request: Request) -> Response:
            return await op.answer("listLotBids", path=dict(request.path_params))

        async def lot(request: Request) -> Response:
            return await op.answer("getLot", path=dict(request.path_params))

        async def dispatch(_request: Request) -> Response:
            sent = await self.portal.state.dispatcher.run_once()
            return JSONResponse({"sent": sent})

        return {
            ("POST", "/lots"): publish,
            ("GET", "/lots/{lotId}"): lot,
            ("PATCH", "/lots/{lotId}"): update,
            ("DELETE", "/lots/{lotId}"): withdraw,
            ("GET", "/lots/{lotId}/bids"): bids,
            ("POST", "/bids/{bidId}/accept"): decide("accepted"),
            ("POST", "/bids/{bidId}/reject"): decide("rejected"),
            ("POST", "/bids/{bidId}/counter"): counter,
            ("POST", "/contracts"): contract,
            ("POST", "/dispatch"): dispatch,
        }

    # the Python side of the same commands
    def publish_lot(self, **fields: Any) -> dict[str, Any]:
        """Create and publish a lot (the spec's example, with ``fields`` changed); the lot."""
        return dict(self.control.request("POST", "/lots", fields)["lot"])

    def get_lot(self, lot_id: str) -> dict[str, Any]:
        return dict(self.control.request("GET", f"/lots/{lot_id}")["lot"])

    def update_lot(self, lot_id: str, **changes: Any) -> dict[str, Any]:
        return dict(self.control.request("PATCH", f"/lots/{lot_id}", changes)["lot"])

    def withdraw_lot(self, lot_id: str) -> dict[str, Any]:
        return dict(self.control.request("DELETE", f"/lots/{lot_id}"))

    def bids(self, lot_id: str) -> list[dict[str, Any]]:
        return list(self.control.request("GET", f"/lots/{lot_id}/bids")["bids"])

    def accept_bid(self, bid_id: str, **extra: Any) -> dict[str, Any]:
        return dict(self.control.request("POST", f"/bids/{bid_id}/accept", extra))

    def reject_bid(self, bid_id: str, reason: str | None = None) -> dict[str, Any]:
        body = {"reason": reason} if reason else {}
        return dict(self.control.request("POST", f"/bids/{bid_id}/reject", body))

    def counter_bid(self, bid_id: str, **offer: Any) -> dict[str, Any]:
        return dict(self.control.request("POST", f"/bids/{bid_id}/counter", offer))

    def create_contract(self, bid_id: str, **terms: Any) -> dict[str, Any]:
        return dict(self.control.request("POST", "/contracts", {"bidId": bid_id} | terms))

    def dispatch(self) -> int:
        """Run the webhook dispatcher once (when started with ``dispatcher_enabled=False``)."""
        return int(self.control.request("POST", "/dispatch")["sent"])
