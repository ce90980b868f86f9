"""The producer simulator: plays the producer against a real buyer portal.

It receives the buyer's webhooks at ``/api/webhooks/{lots,bids,contracts}``, checks each one
(Standard Webhooks signature with the shared secret, or the legacy static bearer, recorded as a
deviation; headers, payload, receiver path), answers as the fault plan says (any status, slow,
past the sender's timeout, a reset connection, 429/503 with Retry-After) or as the reference
producer does, and records every attempt, so the buyer's retries show up with their delays. It
acts through the buyer's API with the API key: it lists and reads lots, submits and resubmits
bids and answers counter-offers (through the reference producer, which keeps its own state) and
reads bids and contracts; every call and the buyer's answer are checked and recorded.

    with ProducerSimulator("http://localhost:3004", api_key="...", secret="whsec_...") as p:
        lots = p.list_lots()
        bid = p.submit_bid(lots[0]["_id"])
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any, ClassVar

import httpx
from lotflow.simulators.base import Simulator, checked_secret
from lotflow.simulators.control import InProcessCaller, control_app, json_body
from lotflow.simulators.faults import FaultPlan
from lotflow.simulators.front import Inspected, SimulatorFront
from lotflow.simulators.outbound import RecordingBuyerTransport
from lotflow.simulators.state import SimulationState
from lotflow.simulators.validation import CallChecker, WebhookChecker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lotflow.client import SpecClient
from lotflow.clock import Clock, SystemClock
from lotflow.engine.tap import Delivery
from lotflow.errors import LotflowError
from lotflow.ids import new_object_id
from lotflow.openapi import load_portal_spec, resolve
from lotflow.signing import new_webhook_secret
from lotflow.terms import terms_on
from lotflow.threads import in_thread

__all__ = ["ProducerSimulator"]

PLACEHOLDER_BUYER = "http://buyer.invalid"
WEBHOOK_PREFIX = "/api/webhooks/"
ALIASES = ("alpha", "beta")


class ProducerSimulator(Simulator):
    """The producer, simulated (see the module docstring).

    ``buyer_url`` is the buyer portal's base URL (settable later); ``api_key`` the key sent in
    ``X-API-Key``; ``secret`` the secret(s) webhooks are verified with (space-separated during a
    rotation) and ``lot_secret`` those of lot webhooks when they differ
    (MARKETPLACE_WEBHOOK_SECRET); ``aliases`` name the producer organisations it acts as (each
    gets an operator token in ``producer_tokens``); ``transport`` replaces the network for
    calls to the buyer.
    """

    role = "producer"
    options: ClassVar[dict[str, str]] = {
        "BUYER_API_KEY": "--api-key",
        "BUYER_WEBHOOK_SECRET": "--secret",
        "MARKETPLACE_WEBHOOK_SECRET": "--lot-secret",
    }

    def __init__(
        self,
        buyer_url: str = "",
        *,
        api_key: str | None = None,
        secret: str | None = None,
        lot_secret: str | None = None,
        plan: FaultPlan | None = None,
        database_url: str | None = None,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        record: Path | None = None,
        webhook_auth: str = "standard",
        aliases: tuple[str, ...] = ALIASES,
        buyer_timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            SimulationState(clock or SystemClock(), plan), host=host, port=port, record=record
        )
        from lotflow.reference.producer.app import create_app
        from lotflow.reference.producer.settings import ProducerSettings

        self.secret = (
            " ".join(checked_secret(s) for s in secret.split()) if secret else new_webhook_secret()
        )
        self.lot_secret = " ".join(
            checked_secret(s, "--lot-secret") for s in (lot_secret or "").split()
        )
        self.api_key = api_key or secrets.token_urlsafe(24)
        self.producer_tokens = {alias: secrets.token_urlsafe(24) for alias in aliases}
        env = self._env(database_url, webhook_auth, buyer_timeout)
        self.settings = self._settings(ProducerSettings.from_env, env)
        self.calls = RecordingBuyerTransport(self.state, inner=transport)
        self.buyer_url = buyer_url
        self.portal = create_app(self.settings, clock=self.state.clock, buyer_transport=self.calls)
        self._webhooks = WebhookChecker(
            self.settings.bid_secrets,
            self.state.clock,
            legacy=webhook_auth == "legacy-bearer",
            lot_secrets=self.settings.lot_secrets,
        )
        self._receivers = CallChecker("producer")
        self._buyer = SpecClient(
            load_portal_spec("buyer"),
            PLACEHOLDER_BUYER,
            headers={"X-API-Key": self.api_key},
            timeout=buyer_timeout,
            retries=0,
            transport=self.calls,
        )
        self._operators = {
            alias: InProcessCaller(self.portal, self._receivers.operations, token)
            for alias, token in self.producer_tokens.items()
        }
        control = control_app(self.state, self.control_token, self._actions(), self.describe)
        self.app = SimulatorFront(self.portal, control, self._inspect, self.state)
        self._closers.append(self._buyer.close)

    def _env(self, database_url: str | None, webhook_auth: str, timeout: float) -> dict[str, str]:
        """The reference producer's environment (the portals' own variable names)."""
        operators = [
            {"orgId": new_object_id(), "name": f"lotflow producer simulator ({a})", "token": t}
            for a, t in self.producer_tokens.items()
        ]
        return {
            "LOTFLOW_DATABASE_URL": self._database_url(database_url, "producer.sqlite3"),
            "NEXT_PUBLIC_BUYER_DASHBOARD_URL": PLACEHOLDER_BUYER,
            "BUYER_API_KEY": self.api_key,
            "BUYER_WEBHOOK_SECRET": self.secret,
            **({"MARKETPLACE_WEBHOOK_SECRET": self.lot_secret} if self.lot_secret else {}),
            "LOTFLOW_PRODUCER_OPERATORS": json.dumps(operators),
            "LOTFLOW_WEBHOOK_AUTH": webhook_auth,
            "LOTFLOW_BUYER_TIMEOUT": str(timeout),
            "LOTFLOW_BUYER_RETRIES": "0",
        }

    @property
    def buyer_url(self) -> str:
        """The buyer portal's base URL."""
        return self.calls.target

    @buyer_url.setter
    def buyer_url(self, url: str) -> None:
        self.calls.target = url.rstrip("/")

    def _described(self) -> dict[str, Any]:
        return {
            "buyer": self.buyer_url or None,
            "webhookAuth": self.settings.webhook_auth,
            "aliases": list(self.producer_tokens),
        }

    # ---------------------------------------------------------------- receiving webhooks
    def _inspect(
        self, method: str, path: str, _query: str, headers: dict[str, str], body: bytes
    ) -> Inspected | None:
        if not path.startswith(WEBHOOK_PREFIX):
            return None
        event = self._webhooks.event_of(body)
        operation = self._receivers.operation(method, path)
        findings = self._webhooks.check(path, headers, body)
        return Inspected(
            "webhook", event, operation.operation_id if operation else None, event, findings
        )

    # ---------------------------------------------------------------- acting like a producer
    def default_bid(self, lot_id: str, lot: dict[str, Any] | None = None) -> dict[str, Any]:
        """A bid to submit: the spec's submitProducerBid example for ``lot_id``, undated, and
        placed on ``lot`` when it is known (its unit, at most its volume, its currency), so that
        a bid made up for the user is one the buyer takes."""
        op = self._receivers.operations["submitProducerBid"]
        example = dict(resolve(self._receivers.spec, op.request_schema)["examples"][0])
        for dated in ("expiresAt", "deliveryDate"):
            example.pop(dated, None)
        return terms_on(example, lot) if lot is not None else example | {"lotId": lot_id}

    def _lot_of(self, lot_id: str) -> dict[str, Any] | None:
        """The buyer's lot ``lot_id`` (getExternalLot), or None when it does not answer one."""
        try:
            reply = self._buyer.call("getExternalLot", path={"lotId": lot_id})
        except LotflowError:  # unreachable, or not an id the path takes: the example as it is
            return None
        found = reply.json() if reply.status_code == HTTPStatus.OK else None
        lot = found.get("lot") if isinstance(found, dict) else None
        return lot if isinstance(lot, dict) and "volume" in lot else None

    def _buyer_call(self, operation: str, **kwargs: Any) -> Callable[[], Response]:
        def call() -> Response:
            reply = self._buyer.call(operation, **kwargs)
            return Response(
                reply.content, reply.status_code, media_type=reply.headers.get("content-type")
            )

        return call

    def _actions(self) -> dict[tuple[str, str], Callable[[Request], Awaitable[Response]]]:
        async def lots(request: Request) -> Response:
            query = dict(request.query_params) or {"status": "published"}
            return await in_thread(self._buyer_call("listExternalLots", query=query))

        async def lot(request: Request) -> Response:
            return await in_thread(
                self._buyer_call("getExternalLot", path=dict(request.path_params))
            )

        async def bid(request: Request) -> Response:
            return await in_thread(
                self._buyer_call("getExternalBid", path=dict(request.path_params))
            )

        async def contract(request: Request) -> Response:
            return await in_thread(
                self._buyer_call("getExternalContract", path=dict(request.path_params))
            )

        async def submit(request: Request) -> Response:
            body = await json_body(request) or {}
            alias = body.pop("as", next(iter(self._operators)))
            lot_id = str(body.get("lotId", ""))
            lot = await in_thread(self._lot_of, lot_id) if lot_id else None
            return await self._operators[alias].answer(
                "submitProducerBid", body=self.default_bid(lot_id, lot) | body
            )

        def own(operation: str) -> Callable[[Request], Awaitable[Response]]:
            async def act(request: Request) -> Response:
                body = await json_body(request) or {}
                alias = (
                    body.pop("as", next(iter(self._operators)))
                    if isinstance(body, dict)
                    else ALIASES[0]
                )
                return await self._operators[alias].answer(
                    operation, path=dict(request.path_params), body=body or None
                )

            return act

        async def received(_request: Request) -> Response:
            return JSONResponse({"received": [_delivery(d) for d in self.state.log.since()]})

        return {
            ("GET", "/lots"): lots,
            ("GET", "/lots/{lotId}"): lot,
            ("POST", "/bids"): submit,
            ("GET", "/bids/{bidId}"): bid,
            ("POST", "/bids/{bidId}/resubmit"): own("resubmitProducerBid"),
            ("POST", "/bids/{bidId}/counter-response"): own("respondToCounterOffer"),
            ("GET", "/producer-bids/{bidId}"): own("getProducerBid"),
            ("GET", "/contracts/{contractId}"): contract,
            ("GET", "/received"): received,
        }

    # the Python side of the same commands
    def list_lots(self, **query: str) -> list[dict[str, Any]]:
        """The buyer's published lots (``listExternalLots``)."""
        path = "/lots" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
        return list(self.control.request("GET", path)["lots"])

    def get_lot(self, lot_id: str) -> dict[str, Any]:
        return dict(self.control.request("GET", f"/lots/{lot_id}")["lot"])

    def submit_bid(self, lot_id: str, *, as_: str | None = None, **fields: Any) -> dict[str, Any]:
        """Submit a bid on ``lot_id`` (the spec's example, with ``fields`` changed); the
        producer's record of it (its ``buyerBidId`` names the buyer's bid)."""
        body = {"lotId": lot_id, **fields} | ({"as": as_} if as_ else {})
        return dict(self.control.request("POST", "/bids", body)["bid"])

    def resubmit_bid(self, bid_id: str) -> dict[str, Any]:
        return dict(self.control.request("POST", f"/bids/{bid_id}/resubmit")["bid"])

    def respond_to_counter(self, bid_id: str, accept: bool) -> dict[str, Any]:
        return dict(
            self.control.request("POST", f"/bids/{bid_id}/counter-response", {"accept": accept})
        )

    def get_bid(self, buyer_bid_id: str) -> dict[str, Any]:
        """The buyer's view of a bid (``getExternalBid``)."""
        return dict(self.control.request("GET", f"/bids/{buyer_bid_id}")["bid"])

    def get_contract(self, contract_id: str) -> dict[str, Any]:
        """The buyer's view of a contract (``getExternalContract``)."""
        return dict(self.control.request("GET", f"/contracts/{contract_id}")["contract"])


def _delivery(d: Delivery) -> dict[str, Any]:
    return {
        "event": d.event,
        "webhookId": d.webhook_id,
        "attempt": d.attempt,
        "status": d.status,
        "path": d.path,
    }
