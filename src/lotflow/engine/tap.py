"""The webhook tap: sits between the buyer and the producer, records every delivery, forwards it.

The buyer's webhook URL points at the tap; the tap forwards each delivery unchanged to the
producer portal and answers the buyer with the producer's answer. ``down`` simulates an outage of
the producer (503, nothing forwarded), so the buyer's retries can be observed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lotflow.engine.events import WebhookSeen

HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding"}


@dataclass
class WebhookLog:
    """Thread-safe record of deliveries, with waiting on a condition until a deadline."""

    def __post_init__(self) -> None:
        self._items: list[WebhookSeen] = []
        self._condition = threading.Condition()

    def add(self, item: WebhookSeen) -> None:
        with self._condition:
            self._items.append(item)
            self._condition.notify_all()

    def mark(self) -> int:
        with self._condition:
            return len(self._items)

    def since(self, mark: int) -> list[WebhookSeen]:
        with self._condition:
            return list(self._items[mark:])

    def attempts_of(self, webhook_id: str) -> int:
        with self._condition:
            return sum(1 for i in self._items if i.webhook_id == webhook_id)

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self._condition:
            return self._condition.wait_for(predicate, timeout=max(timeout, 0.0))


class WebhookTap:
    """The tap's state and its ASGI app (serve it with ``lotflow.serving.ServerThread``)."""

    def __init__(
        self, forward_to: str = "", transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.forward_to = forward_to.rstrip("/")
        self.down = False
        self.log = WebhookLog()
        self._transport = transport
        self.app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST"])])

    async def _receive(self, request: Request) -> Response:
        raw = await request.body()
        webhook_id = request.headers.get("webhook-id", "")
        body = _json(raw)
        event = body.get("event", "?") if isinstance(body, dict) else "?"
        webhook_id = webhook_id or (body.get("eventId", "") if isinstance(body, dict) else "")
        status, content, media = await self._forward(request, raw)
        attempt = self.log.attempts_of(webhook_id) + 1
        self.log.add(
            WebhookSeen(
                event,
                webhook_id,
                request.url.path,
                attempt,
                status,
                status is not None and 200 <= status < 300,
                body,
            )
        )
        return Response(content, status or 502, media_type=media)

    async def _forward(self, request: Request, raw: bytes) -> tuple[int | None, bytes, str | None]:
        if self.down or not self.forward_to:
            return (
                503,
                b'{"error":"producer portal offline (simulated by lotflow)"}',
                "application/json",
            )
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=10) as client:
                answer = await client.post(
                    self.forward_to + request.url.path, content=raw, headers=headers
                )
        except httpx.HTTPError as exc:
            return (
                None,
                json.dumps({"error": f"producer unreachable: {type(exc).__name__}"}).encode(),
                "application/json",
            )
        return answer.status_code, answer.content, answer.headers.get("content-type")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
