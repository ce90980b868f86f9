"""What every producer handler works with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lotflow.reference.producer.settings import ProducerSettings
from lotflow.reference.producer.tables import ProducerTables

from lotflow.client import SpecClient
from lotflow.clock import Clock
from lotflow.db import Database
from lotflow.workflow import StateMachine, Workflow, load_workflow


@dataclass
class ProducerContext:
    db: Database
    tables: ProducerTables
    settings: ProducerSettings
    clock: Clock
    make_buyer: Callable[[], SpecClient]
    workflow: Workflow = field(default_factory=load_workflow)
    _buyer: SpecClient | None = field(default=None, init=False, repr=False)
    lot_machine: StateMachine = field(init=False)
    bid_machine: StateMachine = field(init=False)
    contract_machine: StateMachine = field(init=False)

    def __post_init__(self) -> None:
        self.lot_machine = self.workflow.machine("producer.lot")
        self.bid_machine = self.workflow.machine("producer.bid")
        self.contract_machine = self.workflow.machine("producer.contract")

    @property
    def buyer(self) -> SpecClient:
        """The client of the buyer's API, made on first use (and again after ``close_buyer``)."""
        if self._buyer is None:
            self._buyer = self.make_buyer()
        return self._buyer

    def close_buyer(self) -> None:
        if self._buyer is not None:
            self._buyer.close()
            self._buyer = None

    def org_ids(self) -> list[str]:
        return [o.org_id for o in self.settings.operators]

    def org(self, org_id: str) -> Any:
        return next(o for o in self.settings.operators if o.org_id == org_id)
