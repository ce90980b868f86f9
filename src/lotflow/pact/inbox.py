"""Webhooks captured as the buyer sends them, for the message pacts' provider side.

A :class:`WebhookInbox` records every delivery (headers and the exact body bytes) and answers it
as a receiver that accepted it. It receives through :meth:`WebhookInbox.transport` (an httpx
transport: the reference buyer's ``webhook_transport``) or through :meth:`WebhookInbox.app` (an
ASGI app a live buyer's webhook URL can point at). :meth:`WebhookInbox.wait_for` blocks until a
matching delivery has arrived or the deadline passes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from lotflow.clock import Clock, SystemClock

__all__ = ["CapturedWebhook", "WebhookInbox"]

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


@dataclass(frozen=True)
class CapturedWebhook:
    """One delivery as it arrived."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def event(self) -> str:
        payload = self.payload
        return str(payload.get("event", "")) if isinstance(payload, dict) else ""

    def signature(self) -> dict[str, str]:
        """The Standard Webhooks headers it carried."""
        return {name: self.headers[name] for name in SIGNATURE_HEADERS if name in self.headers}


@dataclass
class WebhookInbox:
    """Every webhook received, in order of arrival."""

    clock: Clock = field(default_factory=SystemClock)
    received: list[CapturedWebhook] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def record(self, path: str, headers: dict[str, str], body: bytes) -> CapturedWebhook:
        webhook = CapturedWebhook(path, {k.lower(): v for k, v in headers.items()}, body)
        with self._arrived:
            self.received.append(webhook)
            self._arrived.notify_all()
        return webhook

    def wait_for(
        self, wanted: Callable[[CapturedWebhook], bool], timeout: float
    ) -> CapturedWebhook | None:
        """The most recent delivery that ``wanted`` accepts, waiting up to ``timeout`` seconds."""
        deadline = self.clock.monotonic() + timeout
        with self._arrived:
            while True:
                found = next((w for w in reversed(self.received) if wanted(w)), None)
                left = deadline - self.clock.monotonic()
                if found is not None or left <= 0:
                    return found
                self._arrived.wait(left)

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport that delivers into this inbox."""

        async def handle(request: httpx.Request) -> httpx.Response:
            body = await request.aread()
            webhook = self.record(request.url.path, dict(request.headers), body)
            return httpx.Response(200, json=_ack(webhook))

        return httpx.MockTransport(handle)

    def app(self) -> Starlette:
        """An ASGI receiver for every ``/api/webhooks/...`` path, delivering into this inbox."""

        async def receive(request: Request) -> JSONResponse:
            body = await request.body()
            webhook = self.record(request.url.path, dict(request.headers), body)
            return JSONResponse(_ack(webhook))

        return Starlette(routes=[Route("/api/webhooks/{kind}", receive, methods=["POST"])])


def _ack(webhook: CapturedWebhook) -> dict[str, Any]:
    event_id = webhook.headers.get("webhook-id", "")
    return {"received": True, "eventId": event_id, "duplicate": False, "applied": True}
