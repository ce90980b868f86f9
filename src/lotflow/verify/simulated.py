"""The buyer verify plays for a producer under test: a buyer simulator
(:class:`lotflow.simulators.BuyerSimulator`, the buyer's producer-facing API served from real
state) whose URL the producer uses as its buyer. The producer-as-client checks publish lots on it,
script its answers (a fault plan's answer rules) and read what the producer sent it: every call
is recorded with the simulator's findings (:class:`~lotflow.simulators.validation.CallChecker`),
credentials redacted.

verify reaches the simulator only through this module, in-process; it never imports the reference
portals (the simulator does, as its own implementation).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from lotflow.openapi import load_portal_spec, operations, resolve
from lotflow.verify.results import Exchange
from lotflow.verify.session import PRODUCER_TAG

if TYPE_CHECKING:
    from lotflow.simulators import BuyerSimulator
    from lotflow.simulators.recording import Exchange as Recorded

__all__ = ["Call", "SimulatedBuyer", "key_headers"]


@dataclass(frozen=True)
class Call:
    """One call the producer made to the simulated buyer, as the simulator recorded it."""

    operation: str
    body: Any
    headers: dict[str, str]
    status: int | None
    findings: tuple[str, ...]
    exchange: Exchange
    index: int = -1  # its place in the simulator's record

    @property
    def authenticated(self) -> bool:
        """Whether it carried the key where the buyer spec lets a producer put it (the header of
        an apiKey scheme, or Authorization for a bearer one) and the buyer did not answer 401."""
        carried = key_headers() & {name.lower() for name in self.headers}
        return bool(carried) and self.status != 401


@cache
def key_headers() -> frozenset[str]:
    """The headers a producer's key may travel in: those of the security schemes of the buyer
    spec's producer-facing operations."""
    spec = load_portal_spec("buyer")
    schemes = spec.get("components", {}).get("securitySchemes", {})
    names: set[str] = set()
    for operation in operations(spec).values():
        if PRODUCER_TAG not in operation.tags:
            continue
        for name in (n for alternative in operation.security for n in alternative):
            scheme = resolve(spec, schemes.get(name, {}))
            if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                names.add(str(scheme["name"]).lower())
            elif scheme.get("type") == "http":
                names.add("authorization")
    return frozenset(names)


class SimulatedBuyer:
    """A started buyer simulator and what the checks do with it."""

    def __init__(self, simulator: BuyerSimulator, *, sends_webhooks: bool) -> None:
        self.simulator = simulator
        self.sends_webhooks = sends_webhooks

    @classmethod
    @contextmanager
    def running(
        cls,
        producer_url: str,
        *,
        secret: str | None = None,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        backoff_base: float = 1.0,
    ) -> Iterator[SimulatedBuyer]:
        """A buyer simulator on ``host:port`` sending its webhooks to ``producer_url`` (signed with
        ``secret``; without one it sends none, since the producer would refuse them)."""
        from lotflow.simulators import BuyerSimulator

        simulator = BuyerSimulator(
            producer_url,
            secret=secret,
            api_key=api_key,
            host=host,
            port=port,
            dispatcher_enabled=secret is not None,
            backoff_base=backoff_base,
            backoff_cap=max(1.0, backoff_base * 8),
        )
        with simulator:
            yield cls(simulator, sends_webhooks=secret is not None)

    @property
    def url(self) -> str:
        return self.simulator.url

    @property
    def api_key(self) -> str:
        return self.simulator.api_key

    # ------------------------------------------------------------------ acting as the buyer

    async def publish_lot(self) -> dict[str, Any]:
        """A fresh published lot (the spec's example)."""
        return await asyncio.to_thread(self.simulator.publish_lot)

    async def bids(self, lot_id: str) -> list[dict[str, Any]]:
        """The bids the buyer holds on ``lot_id``."""
        return await asyncio.to_thread(self.simulator.bids, lot_id)

    async def counter(self, bid_id: str, offer: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(lambda: self.simulator.counter_bid(bid_id, **offer))

    @contextmanager
    def answering(self, rules: list[dict[str, Any]]) -> Iterator[None]:
        """Answer the producer's calls as ``rules`` (a fault plan's ``answers``) say, then as the
        buyer would again."""
        self.simulator.use_faults(json.dumps({"answers": rules}))
        try:
            yield
        finally:
            self.simulator.use_faults(json.dumps({}))

    # ------------------------------------------------------------------ what the producer sent

    def mark(self) -> int:
        """A position in the record: :meth:`calls` since it."""
        return len(self.simulator.exchanges())

    def calls(self, since: int, operation: str | None = None) -> list[Call]:
        """The producer's calls recorded after ``since`` (of ``operation`` only, when given)."""
        recorded = self.simulator.exchanges()[since:]
        found = [_call(e) for e in recorded if e.kind == "call" and e.direction == "inbound"]
        return [c for c in found if operation is None or c.operation == operation]

    def webhook_delivered_before(self, call: Call, since: int) -> bool:
        """Whether a webhook the buyer sent after ``since`` (a :meth:`mark`) was delivered, a
        2xx, before ``call`` was answered (the record keeps a call once it is answered)."""
        recorded = self.simulator.state.recording.between(since, call.index)
        return any(e.sent_and_delivered for e in recorded)


def _call(recorded: Recorded) -> Call:
    text = recorded.request_body.decode("utf-8", "replace")
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    exchange = Exchange(
        method=recorded.method,
        url=recorded.url,
        request_headers=dict(recorded.request_headers),
        request_body=text or None,
        status=recorded.status,
        response_headers=dict(recorded.response_headers),
        response_body=recorded.response_body.decode("utf-8", "replace") or None,
        error=recorded.error,
    )
    findings = tuple(f"{f.rule}: {f.observed}" for f in recorded.findings)
    return Call(
        recorded.subject,
        body,
        dict(recorded.request_headers),
        recorded.status,
        findings,
        exchange,
        recorded.index,
    )
