"""The webhook tap: sits between the buyer and the producer, records every delivery, forwards it.

Point the buyer's webhook URL at the tap. Each delivery is forwarded unchanged (same path, body
and headers, so signatures still verify) to ``forward_to`` + the same path, and the producer's
answer goes back to the buyer. The :class:`WebhookLog` records method, path, headers, raw body,
receive time and the producer's answer, numbering the attempts of each webhook-id, so the buyer's
retries can be seen. ``down = True`` simulates an outage of the producer: the tap answers 503
and forwards nothing.

The tap is an ASGI app (``tap.app``); serve it with ``lotflow.serving.ServerThread(tap.app)`` or
drive it in-process with ``httpx.ASGITransport``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lotflow.clock import Clock, SystemClock

__all__ = ["Delivery", "WebhookLog", "WebhookTap"]

NOT_FORWARDED = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te"}
NOT_FORWARDED |= {"upgrade", "proxy-authorization", "proxy-connection"}
OFFLINE_DETAIL = "The producer portal is offline (an outage simulated by lotflow's webhook tap)."


@dataclass(frozen=True)
class Delivery:
    """One delivery attempt as the tap saw it, and the producer's answer.

    ``status`` is None when the producer could not be reached; ``forwarded`` is False when the
    tap refused the delivery itself (outage, or no producer URL configured).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime
    status: int | None
    answer: bytes = b""
    forwarded: bool = True
    attempt: int = 1
    payload: Any = field(default=None, repr=False)

    @property
    def delivered(self) -> bool:
        """The producer accepted it (a 2xx)."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def event(self) -> str:
        """The event name from the body (``event``, or Standard Webhooks' ``type``)."""
        if isinstance(self.payload, dict):
            return str(self.payload.get("event") or self.payload.get("type") or "?")
        return "?"

    @property
    def webhook_id(self) -> str:
        """The ``webhook-id`` header (the same on every retry of one event)."""
        found = self.headers.get("webhook-id")
        if not found and isinstance(self.payload, dict):
            found = self.payload.get("eventId") or self.payload.get("id")
        return str(found or "")


class WebhookLog:
    """A thread-safe record of deliveries, with waiting on a condition until a deadline."""

    def __init__(self) -> None:
        self._items: list[Delivery] = []
        self._changed = threading.Condition()  # re-entrant: predicates may read the log

    def record(self, delivery: Delivery) -> Delivery:
        """Add a delivery, numbering its attempt among those with the same webhook-id."""
        with self._changed:
            earlier = sum(1 for d in self._items if d.webhook_id == delivery.webhook_id)
            numbered = replace(delivery, attempt=earlier + 1)
            self._items.append(numbered)
            self._changed.notify_all()
        return numbered

    def mark(self) -> int:
        """A position in the log; :meth:`since` returns what was recorded after it."""
        with self._changed:
            return len(self._items)

    def since(self, mark: int = 0) -> list[Delivery]:
        """The deliveries recorded after ``mark``, oldest first."""
        with self._changed:
            return list(self._items[mark:])

    def __len__(self) -> int:
        return self.mark()

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` is true (re-checked at each new delivery) or ``timeout``
        seconds pass; returns the predicate's last value."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout=max(timeout, 0.0))


class WebhookTap:
    """The tap's state (``forward_to``, ``down``, ``log``) and its ASGI ``app``."""

    def __init__(
        self,
        forward_to: str = "",
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.forward_to = forward_to
        self.down = False
        self.log = WebhookLog()
        self._transport = transport
        self._clock = clock or SystemClock()
        self._timeout = timeout
        self.app = Starlette(routes=[Route("/{path:path}", self._receive, methods=["POST", "PUT"])])

    async def _receive(self, request: Request) -> Response:
        received_at = self._clock.now()
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        refused = self.down or not self.forward_to
        status: int | None
        if refused:
            status, answer, response = self._refusal()
        else:
            status, answer, response = await self._forward(request, body, headers)
        delivery = Delivery(
            method=request.method,
            path=request.url.path,
            headers=headers,
            body=body,
            received_at=received_at,
            status=status,
            answer=answer,
            forwarded=not refused,
            payload=_json(body),
        )
        self.log.record(delivery)
        return response

    def _refusal(self) -> tuple[int, bytes, Response]:
        reason = (
            OFFLINE_DETAIL if self.down else "The webhook tap has no producer URL to forward to."
        )
        refusal = _problem(503, "Service Unavailable", reason)
        return 503, bytes(refusal.body), refusal

    async def _forward(
        self, request: Request, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, bytes, Response]:
        target = self.forward_to.rstrip("/") + request.url.path
        if request.url.query:
            target += "?" + request.url.query
        forwarded = {k: v for k, v in headers.items() if k not in NOT_FORWARDED}
        try:
            async with httpx.AsyncClient(
                transport=self._transport, timeout=self._timeout
            ) as client:
                answer = await client.request(
                    request.method, target, content=body, headers=forwarded
                )
        except httpx.HTTPError as exc:
            detail = (
                f"The producer portal at {self.forward_to} did not answer: {type(exc).__name__}."
            )
            return None, b"", _problem(502, "Bad Gateway", detail)
        media = answer.headers.get("content-type")
        return (
            answer.status_code,
            answer.content,
            Response(answer.content, answer.status_code, media_type=media),
        )


def _problem(status: int, title: str, detail: str) -> Response:
    content = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(content, status, media_type="application/problem+json")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
