"""The network between the buyer's webhook sender and the producer, as a model controls it.

:class:`ControlledNetwork` is the buyer dispatcher's ``webhook_transport``: every signed delivery
passes through it, and the :class:`Fault` set for the current pass decides what happens to it —
delivered now, refused by a receiver that is down, lost on the way, held back and delivered later
(delay, reorder), delivered and kept for a second delivery (duplicate), delivered with its answer
lost (so the sender retries), or delivered and then the sender killed before it records the
answer. Every attempt is recorded in a :class:`~lotflow.engine.tap.WebhookLog`, the same log the
webhook tap keeps, so the checks read both alike; every fault but the killed sender is one the
tap plays too (``network:`` steps), so a scenario printed from the model replays it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum

import httpx

from lotflow.clock import Clock
from lotflow.engine.tap import EFFECTS, Delivery, NetworkFault, WebhookLog

__all__ = ["ControlledNetwork", "Fault", "HeldDelivery", "SenderKilledError"]


class Fault(Enum):
    """What the network does to the deliveries of one dispatcher pass."""

    NONE = "deliver"
    DOWN = "receiver-down"
    DROP = "drop"
    DELAY = "delay"
    DUPLICATE = "duplicate"
    LOST_ANSWER = "lost-answer"
    KILL_SENDER = "kill-sender"


class SenderKilledError(Exception):
    """Raised through the dispatcher when the sender is killed after a delivery, before it could
    record the answer (the pass ends there; the portal is restarted on its database)."""


@dataclass(frozen=True)
class HeldDelivery:
    """A copy of a request the network holds back, to deliver later (late, reordered, twice)."""

    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> str:
        return str(json.loads(self.body).get("event", "?"))


class ControlledNetwork(httpx.AsyncBaseTransport):
    """An async transport whose behaviour is set per pass with :attr:`fault`.

    ``receiver`` is the transport to the producer (in-process: an ``httpx.ASGITransport`` of its
    app on the same event loop). Every fault but the killed sender has the effect the webhook
    tap gives it (:data:`~lotflow.engine.tap.EFFECTS`), so what the model finds, a scenario
    replays through the tap; every attempt is recorded in :attr:`log` as the tap records it.
    """

    def __init__(self, receiver: httpx.AsyncBaseTransport, clock: Clock) -> None:
        self.receiver = receiver
        self.clock = clock
        self.fault = Fault.NONE
        self.receiver_down = False
        self.held: list[HeldDelivery] = []
        self.log = WebhookLog()
        self.sent = 0
        self.kill_requested = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        held = HeldDelivery(str(request.url), dict(request.headers), body)
        fault = Fault.DOWN if self.receiver_down else self.fault
        self.sent += 1
        if fault is Fault.KILL_SENDER:  # its answer never reaches the sender, which then dies
            await self.deliver(held, "sender killed")
            self.kill_requested = True
            raise httpx.ReadTimeout("the sender was killed after sending", request=request)
        effect = EFFECTS[NetworkFault(fault.value)]
        if effect.forward:
            answer = await self.deliver(held, effect.named)
        else:
            status = effect.refusal[0] if fault is Fault.DOWN and effect.refusal else None
            self._record(held, status, b"", forwarded=False, network=effect.named)
        if effect.keep:
            self.held.append(held)  # delivered later (delay), or once more later (duplicate)
        if effect.refusal is not None:
            status, title, detail = effect.refusal
            problem = {"type": "about:blank", "title": title, "status": status, "detail": detail}
            return httpx.Response(status, json=problem, request=request)
        return httpx.Response(answer.status_code, content=answer.content, request=request)

    async def deliver(self, held: HeldDelivery, network: str = "") -> httpx.Response:
        """Hand one request to the producer now, record it, and return the producer's answer."""
        request = httpx.Request("POST", held.url, headers=held.headers, content=held.body)
        response = await self.receiver.handle_async_request(request)
        content = await response.aread()
        self._record(held, response.status_code, content, forwarded=True, network=network)
        return httpx.Response(response.status_code, content=content)

    def _record(
        self,
        held: HeldDelivery,
        status: int | None,
        answer: bytes,
        *,
        forwarded: bool,
        network: str,
    ) -> None:
        self.log.record(
            Delivery(
                method="POST",
                path=httpx.URL(held.url).path,
                headers={k.lower(): v for k, v in held.headers.items()},
                body=held.body,
                received_at=self.clock.now(),
                status=status,
                answer=answer,
                forwarded=forwarded,
                payload=json.loads(held.body),
                network=network,
            )
        )

    async def release(self, index: int) -> HeldDelivery | None:
        """Deliver the held copy at ``index`` (modulo how many are held) now; None if none."""
        if not self.held or self.receiver_down:
            return None
        held = self.held.pop(index % len(self.held))
        await self.deliver(held, "released")
        return held
