"""The buyer simulator's webhooks on the wire: faults applied, every attempt recorded and checked.

:class:`WebhookWire` is the ``webhook_transport`` of the reference buyer inside the buyer
simulator: the buyer's dispatcher signs and sends as it always does, and each request passes
through here on its way to the producer portal under test. Here the fault plan's webhook rules
are applied (see ``faults.WEBHOOK_FAULTS``), the request is sent over the real network (or
``inner``), and each attempt that reaches the wire is recorded with the producer's answer, which
is checked against the producer spec's receiver operations. ``target`` (a base URL) replaces the
origin the buyer was configured with, so the producer's URL can be set after start-up.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from lotflow.simulators.faults import FaultRule
from lotflow.simulators.recording import Exchange
from lotflow.simulators.state import SimulationState
from lotflow.simulators.urls import retarget
from lotflow.simulators.validation import CallChecker

from lotflow.engine.tap import Delivery
from lotflow.ids import new_event_id
from lotflow.signing import legacy_bearer_headers, sign

__all__ = ["WebhookWire"]

Sleep = Callable[[float], Awaitable[object]]
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_UNSENT = {"host", "content-length", "transfer-encoding", "connection"}


@dataclass
class _Outgoing:
    """A webhook about to go on the wire."""

    url: httpx.URL
    headers: dict[str, str]
    body: bytes
    event: str
    faults: tuple[str, ...]
    payload: dict[str, Any] = field(default_factory=dict)  # the body, parsed once


class WebhookWire(httpx.AsyncBaseTransport):
    """Faults, sends, records and checks each webhook attempt (see the module docstring)."""

    def __init__(
        self,
        state: SimulationState,
        secrets: Sequence[str],
        *,
        inner: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.state = state
        self.secrets = list(secrets)
        self.target = ""
        self._inner = inner or httpx.AsyncHTTPTransport()
        self._sleep = sleep
        self._checker = CallChecker("producer")
        self._history: dict[tuple[str, str], bytes] = {}
        self._held: list[_Outgoing] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        payload = _payload(body)
        event = str(payload.get("event", "?"))
        out = _Outgoing(
            self._url(request.url), _sendable(request.headers), body, event, (), payload
        )
        if self.state.down:
            return self._offline(out)
        rules = self.state.chooser.webhook_faults(out.event)
        out.faults = tuple(r.fault for r in rules)
        for rule in rules:
            await self._before(rule, out)
        return await self._deliver(out, rules)

    async def _deliver(self, out: _Outgoing, rules: list[FaultRule]) -> httpx.Response:
        by_name = {r.fault: r for r in rules}
        if "drop" in by_name:
            return self._dropped(out, bool(by_name["drop"].param("silent", False)))
        if "reorder" in by_name:
            return self._hold(out, int(by_name["reorder"].param("ms", 1000)))
        response = await self._send(out)
        for _ in range(
            int(by_name["duplicate"].param("copies", 2)) - 1 if "duplicate" in by_name else 0
        ):
            await self._send(out)
        await self._flush()
        if "stale-version" in by_name:
            await self._send_previous(out)
        self._remember(out)
        return response

    # ---------------------------------------------------------------- faults before sending
    async def _before(self, rule: FaultRule, out: _Outgoing) -> None:
        change = _CHANGES.get(rule.fault)
        if change is not None:
            change(self, rule, out)
        elif rule.fault == "delay":
            await self._sleep(int(rule.param("ms", 0)) / 1000)
        elif rule.fault == "unknown-event":
            await self._send(self._unknown(out, str(rule.param("type", "lot.audited"))))

    def _resign(self, out: _Outgoing, secrets: Sequence[str], age: int = 0) -> None:
        stamp = int(self.state.clock.now().timestamp()) - age
        msg_id = out.headers.get("webhook-id") or out.payload.get("eventId", "")
        out.headers["webhook-timestamp"] = str(stamp)
        out.headers["webhook-signature"] = sign(secrets, msg_id, stamp, out.body)

    def _bad_signature(self, _rule: FaultRule, out: _Outgoing) -> None:
        digest = hmac.digest(b"lotflow-bad-signature", out.body, hashlib.sha256)
        out.headers["webhook-signature"] = "v1," + base64.b64encode(digest).decode("ascii")

    def _stale_timestamp(self, rule: FaultRule, out: _Outgoing) -> None:
        self._resign(out, self.secrets, age=int(rule.param("age", 600)))

    def _wrong_secret(self, _rule: FaultRule, out: _Outgoing) -> None:
        key = hashlib.sha256(b"lotflow wrong secret:" + self.secrets[0].encode()).digest()
        self._resign(out, ["whsec_" + base64.b64encode(key).decode("ascii")])

    def _missing_headers(self, rule: FaultRule, out: _Outgoing) -> None:
        for name in rule.param("headers", list(SIGNATURE_HEADERS)):
            out.headers.pop(name, None)

    def _legacy_bearer(self, _rule: FaultRule, out: _Outgoing) -> None:
        for name in ("webhook-timestamp", "webhook-signature"):
            out.headers.pop(name, None)
        out.headers |= legacy_bearer_headers(self.secrets[0])

    def _malformed(self, _rule: FaultRule, out: _Outgoing) -> None:
        out.body = out.body[:-1] + b",}" if out.body.endswith(b"}") else b"{not json"
        out.payload = {}  # what arrives is not JSON
        self._resign(out, self.secrets)

    def _truncated(self, _rule: FaultRule, out: _Outgoing) -> None:
        out.body, out.payload = out.body[: len(out.body) // 2], {}

    def _unknown(self, out: _Outgoing, event_type: str) -> _Outgoing:
        payload = out.payload | {"event": event_type}
        return self._fresh(out, payload, ("unknown-event",))

    def _fresh(self, out: _Outgoing, payload: dict[str, Any], faults: tuple[str, ...]) -> _Outgoing:
        """A new webhook (new id, signed) with ``payload``, to ``out``'s receiver."""
        msg_id = new_event_id()
        payload = payload | {"eventId": msg_id}
        body = json.dumps(payload, separators=(",", ":")).encode()
        event = str(payload.get("event", "?"))
        extra = _Outgoing(out.url, dict(out.headers), body, event, faults, payload)
        extra.headers["webhook-id"] = msg_id
        self._resign(extra, self.secrets)
        return extra

    # ---------------------------------------------------------------- not sending (now)
    def _offline(self, out: _Outgoing) -> httpx.Response:
        detail = b'{"title":"The producer portal is offline (simulated outage)","status":503}'
        self.state.log.record(self._delivery(out, 503, detail, forwarded=False))
        return httpx.Response(
            503, content=detail, headers={"content-type": "application/problem+json"}
        )

    def _dropped(self, out: _Outgoing, silent: bool) -> httpx.Response:
        self._record(out, None, error="dropped by the fault plan: never sent")
        if not silent:
            raise httpx.ConnectError("lotflow simulator: webhook dropped by the fault plan")
        return httpx.Response(200, json={"received": True, "note": "dropped by lotflow"})

    def _hold(self, out: _Outgoing, ms: int) -> httpx.Response:
        self._held.append(out)
        task = asyncio.get_running_loop().create_task(self._flush_later(ms / 1000))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return httpx.Response(200, json={"received": True, "note": "held by lotflow to reorder"})

    async def _flush_later(self, seconds: float) -> None:
        await self._sleep(seconds)
        await self._flush()

    async def _flush(self) -> None:
        held, self._held = self._held, []
        for out in held:
            await self._send(out)
            self._remember(out)

    async def _send_previous(self, out: _Outgoing) -> None:
        previous = self._history.get(_entity(out.payload))
        if previous is not None:
            await self._send(self._fresh(out, _payload(previous), ("stale-version",)))

    def _remember(self, out: _Outgoing) -> None:
        if "stale-version" not in out.faults and "unknown-event" not in out.faults:
            self._history[_entity(out.payload)] = out.body

    # ---------------------------------------------------------------- the wire
    async def _send(self, out: _Outgoing) -> httpx.Response:
        request = httpx.Request("POST", out.url, headers=out.headers, content=out.body)
        started, start = self.state.clock.now(), self.state.clock.monotonic()
        try:
            response = await self._inner.handle_async_request(request)
            answer = await response.aread()
        except httpx.HTTPError as exc:
            self._record(
                out, None, error=f"{type(exc).__name__}: {exc}", started=started, start=start
            )
            raise
        headers = {k.lower(): v for k, v in response.headers.items()}
        self._record(out, response.status_code, answer, headers, started=started, start=start)
        return httpx.Response(response.status_code, headers=response.headers, content=answer)

    def _record(
        self,
        out: _Outgoing,
        status: int | None,
        answer: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        error: str | None = None,
        started: Any = None,
        start: float | None = None,
    ) -> None:
        clock = self.state.clock
        started = started or clock.now()
        duration = (clock.monotonic() - start) * 1000 if start is not None else 0.0
        findings = self._check_answer(out, status, headers or {}, answer)
        exchange = Exchange(
            "webhook",
            "outbound",
            out.event,
            "POST",
            str(out.url),
            dict(out.headers),
            out.body,
            started,
            duration,
            status,
            headers or {},
            answer,
            error,
            webhook_id=out.headers.get("webhook-id", ""),
            faults=out.faults,
        )
        self.state.record(exchange, findings)
        if status is not None:
            self.state.log.record(self._delivery(out, status, answer, received_at=started))

    def _check_answer(
        self, out: _Outgoing, status: int | None, headers: dict[str, str], body: bytes
    ) -> list[Any]:
        operation = self._checker.operation("post", out.url.path)
        if status is None or operation is None:
            return []
        return self._checker.check_response(operation, status, headers, body, "producer")

    def _delivery(
        self,
        out: _Outgoing,
        status: int,
        answer: bytes,
        *,
        forwarded: bool = True,
        received_at: Any = None,
    ) -> Delivery:
        return Delivery(
            "POST",
            out.url.path,
            dict(out.headers),
            out.body,
            received_at or self.state.clock.now(),
            status,
            answer,
            forwarded,
            payload=out.payload or None,
        )

    def _url(self, url: httpx.URL) -> httpx.URL:
        return retarget(url, self.target)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self._inner.aclose()


_CHANGES: dict[str, Callable[[WebhookWire, FaultRule, _Outgoing], None]] = {
    "bad-signature": WebhookWire._bad_signature,
    "stale-timestamp": WebhookWire._stale_timestamp,
    "wrong-secret": WebhookWire._wrong_secret,
    "missing-headers": WebhookWire._missing_headers,
    "legacy-bearer": WebhookWire._legacy_bearer,
    "malformed-body": WebhookWire._malformed,
    "truncated-body": WebhookWire._truncated,
}


def _sendable(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in _UNSENT}


def _payload(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _entity(payload: dict[str, Any]) -> tuple[str, str]:
    family = str(payload.get("event", "?")).split(".")[0]
    entity = payload.get(family)
    return family, str(entity.get("_id", "")) if isinstance(entity, dict) else ""
