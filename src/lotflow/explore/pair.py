"""What the model drives: two parties, called through their operator APIs, and what the explorer
may control between them (the network, the clock, restarts).

A :class:`Pair` is either the two reference portals in-process (:mod:`lotflow.explore.inprocess`,
every control available) or two running parties at URLs (:mod:`lotflow.explore.live`, the
controls a webhook tap gives, if any). The model asks :attr:`Pair.controls` which rules it may
run and reports the others as not run.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from lotflow.clock import Clock
from lotflow.engine.tap import WebhookLog
from lotflow.explore.network import Fault

__all__ = ["CONTROLS", "Pair"]

CONTROLS = frozenset({"network", "outage", "clock", "restart"})
"""network: per-pass delivery faults; outage: the receiver down; clock: time passes on demand;
restart: the buyer killed and restarted on its database."""


class Pair(Protocol):
    """Two parties wired together, as the model sees them."""

    controls: frozenset[str]
    aliases: tuple[str, ...]
    log: WebhookLog | None
    clock: Clock
    fault_from_now: bool
    """False: a pass delivers what is owed now under its fault (the model's own sender); True:
    the fault meets the deliveries from now until the next pass (a running buyer's sender)."""

    def buyer(self, operation: str, **parts: Any) -> httpx.Response:
        """Call a buyer operation as the buyer's operator."""
        ...

    def producer(self, alias: str, operation: str, **parts: Any) -> httpx.Response:
        """Call a producer operation as producer ``alias``'s operator."""
        ...

    def dispatch(self, fault: Fault) -> None:
        """Let the buyer's sender make one pass under ``fault`` (control ``network``; see
        :attr:`fault_from_now`)."""
        ...

    def release(self, index: int) -> str | None:
        """Deliver a held-back copy now; its event, or None when nothing is held."""
        ...

    def set_receiver(self, up: bool) -> None:
        """Bring the producer's webhook receiver down or back (control ``outage``)."""
        ...

    def advance(self, seconds: float) -> None:
        """Let time pass (control ``clock``)."""
        ...

    def restart_buyer(self) -> None:
        """Kill the buyer and start it again on its database (control ``restart``)."""
        ...

    def settle(self) -> bool:
        """Deliver everything owed; True when the buyer's delivery log has nothing pending."""
        ...

    def close(self) -> None: ...
