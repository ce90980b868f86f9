"""Two running parties at URLs, as the model drives them: calls through their operator APIs,
settling by watching the buyer's delivery log, and — when lotflow's webhook tap sits between
them — the network (receiver down, delivery faults, held copies released late) and the
producer's answers to every delivery.

A running buyer sends each event as soon as it commits, so a pass under a fault sets the tap's
fault for the deliveries from then on, until the next pass or settling (:attr:`fault_from_now`);
a sender killed after sending is played as its answer lost. The clock and restarts need control
a running party does not give: those rules do not run, and the exploration says so.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Literal

import httpx

from lotflow.client import SpecClient
from lotflow.clock import Clock, SystemClock
from lotflow.engine.tap import HeldCopy, NetworkFault, WebhookLog
from lotflow.explore.network import Fault
from lotflow.openapi import load_portal_spec

__all__ = ["LivePair"]


class LivePair:
    """The buyer at ``buyer_url`` and the producer at ``producer_url``; ``tap`` (optional) is
    lotflow's webhook tap between them (its ``down`` switch, its fault, what it holds, its
    log)."""

    fault_from_now = True

    def __init__(
        self,
        buyer_url: str,
        producer_url: str,
        buyer_token: str,
        producer_tokens: Mapping[str, str],
        *,
        tap: Any = None,
        settle_within: float = 30.0,
        poll: float = 0.1,
    ) -> None:
        self.aliases = tuple(producer_tokens)
        self.controls = frozenset({"outage", "network"}) if tap is not None else frozenset()
        self.tap = tap
        self.log: WebhookLog | None = tap.log if tap is not None else None
        self.clock: Clock = SystemClock()
        self.settle_within, self.poll = settle_within, poll
        self._stop = threading.Event()
        self._buyer = _client("buyer", buyer_url, buyer_token)
        self._producers = {
            a: _client("producer", producer_url, t) for a, t in producer_tokens.items()
        }

    def buyer(self, operation: str, **parts: Any) -> httpx.Response:
        return self._buyer.call(operation, **parts)

    def producer(self, alias: str, operation: str, **parts: Any) -> httpx.Response:
        return self._producers[alias].call(operation, **parts)

    def set_receiver(self, up: bool) -> None:
        self.tap.down = not up

    def dispatch(self, fault: Fault) -> None:
        """The deliveries from now until the next pass meet ``fault`` (control ``network``),
        once every event the buyer owes has reached the tap under the fault before."""
        self._reached_the_tap()
        played = Fault.LOST_ANSWER if fault is Fault.KILL_SENDER else fault
        self.tap.fault = NetworkFault(played.value)

    def _reached_the_tap(self) -> None:
        """Wait (polling, with a deadline) until every event the buyer lists as pending has
        been attempted through the tap: the buyer sends when it will."""
        deadline = self.clock.monotonic() + self.settle_within
        while self.clock.monotonic() < deadline:
            pending = self.buyer("listWebhookDeliveries", query={"status": "pending", "limit": 200})
            seen = {d.webhook_id for d in self.tap.log.since(0)}
            if all(d["_id"] in seen for d in pending.json()["deliveries"]):
                return
            self._stop.wait(self.poll)

    def release(self, index: int) -> str | None:
        """Forward the copy the tap holds at ``index`` (modulo how many) now; its event."""
        held: list[HeldCopy] = self.tap.held
        if not held or self.tap.down:
            return None
        chosen = held[index % len(held)]
        self.tap.release(lambda copy: copy is chosen)
        return chosen.event

    def settle(self) -> bool:
        """Network restored and every held copy forwarded, then wait (polling, with a
        deadline) until the buyer owes nothing."""
        if self.tap is not None:
            self.tap.down = False
            self.tap.fault = NetworkFault.DELIVER
            self.tap.release()
        deadline = self.clock.monotonic() + self.settle_within
        while self._owed():
            if self.clock.monotonic() > deadline:
                return False
            self._stop.wait(self.poll)
        return True

    def _owed(self) -> int:
        answer = self.buyer("listWebhookDeliveries", query={"status": "pending", "limit": 1})
        return int(answer.json()["count"])

    # the controls a running party does not give (the model never calls them: its rules check
    # ``controls`` first)
    def advance(self, seconds: float) -> None:
        raise NotImplementedError("no control of a running party's clock")

    def restart_buyer(self) -> None:
        raise NotImplementedError("no control of a running party's process")

    def close(self) -> None:
        """Runs share the parties (:meth:`shutdown` ends the clients), not the network: the
        tap's fault ends and what it holds is discarded with each run."""
        if self.tap is not None:
            self.tap.reset()

    def shutdown(self) -> None:
        self._stop.set()
        for client in (self._buyer, *self._producers.values()):
            client.close()


def _client(portal: Literal["buyer", "producer"], base: str, token: str) -> SpecClient:
    return SpecClient(
        load_portal_spec(portal), base.rstrip("/"), headers={"Authorization": f"Bearer {token}"}
    )
