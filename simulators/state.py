"""What one simulator run holds: the recording, the findings, the webhook log, the fault plan.

The webhook log is the scenario engine's own :class:`~lotflow.engine.tap.WebhookLog`, and
``down`` its outage switch, so a simulator stands where the webhook tap stands: a scenario run
waits on the simulator's log for the webhooks it expects.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from lotflow.simulators.faults import FaultChooser, FaultPlan
from lotflow.simulators.findings import Finding, FindingLog
from lotflow.simulators.recording import Exchange, Recording

from lotflow.clock import Clock
from lotflow.engine.tap import Delivery, WebhookLog

__all__ = ["DeliveryLog", "SimulationState"]


class DeliveryLog(WebhookLog):
    """The tap's log, numbering attempts from a count per webhook-id (the tap's own numbering
    rescans the whole log on every delivery, too slow for the simulator as a load generator)."""

    def __init__(self) -> None:
        super().__init__()
        self._attempts: dict[str, int] = {}

    def record(self, delivery: Delivery) -> Delivery:
        with self._changed:
            attempt = self._attempts.get(delivery.webhook_id, 0) + 1
            self._attempts[delivery.webhook_id] = attempt
            numbered = replace(delivery, attempt=attempt)
            self._items.append(numbered)
            self._changed.notify_all()
        return numbered


class SimulationState:
    """Shared by a simulator's parts; every method is thread-safe."""

    def __init__(self, clock: Clock, plan: FaultPlan | None = None) -> None:
        self.clock = clock
        self.recording = Recording()
        self.findings = FindingLog()
        self.log: WebhookLog = DeliveryLog()
        self.down = False
        self._lock = threading.Lock()
        self.plan = plan or FaultPlan()
        self.chooser: FaultChooser = self.plan.chooser()

    def use_plan(self, plan: FaultPlan) -> None:
        """Inject ``plan``'s faults from now on (its counters start afresh)."""
        with self._lock:
            self.plan, self.chooser = plan, plan.chooser()

    def record(self, exchange: Exchange, findings: list[Finding]) -> Exchange:
        """Keep an exchange and its findings (each finding points at the exchange)."""
        kept = self.recording.add(exchange)
        pointed = tuple(replace(f, exchange=kept.index) for f in findings)
        if pointed:
            self.recording.attach(kept.index, pointed)
            self.findings.add(pointed)
        return replace(kept, findings=pointed)

    def reset(self) -> None:
        """Forget what was recorded and found (the fault plan's counters start afresh)."""
        self.recording.clear()
        self.findings.clear()
        self.use_plan(self.plan)
