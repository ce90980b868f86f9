"""What every producer handler works with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lotflow.client import SpecClient
from lotflow.clock import Clock
from lotflow.db import Database
from lotflow.workflow import StateMachine, Workflow, load_workflow
from lotflow.reference.producer.settings import ProducerSettings
from lotflow.reference.producer.tables import ProducerTables


@dataclass
class ProducerContext:
    db: Database
    tables: ProducerTables
    settings: ProducerSettings
    clock: Clock
    buyer: SpecClient
    workflow: Workflow = field(default_factory=load_workflow)
    lot_machine: StateMachine = field(init=False)
    bid_machine: StateMachine = field(init=False)
    contract_machine: StateMachine = field(init=False)

    def __post_init__(self) -> None:
        self.lot_machine = self.workflow.machine("producer.lot")
        self.bid_machine = self.workflow.machine("producer.bid")
        self.contract_machine = self.workflow.machine("producer.contract")

    def org_ids(self) -> list[str]:
        return [o.org_id for o in self.settings.operators]

    def org(self, org_id: str) -> Any:
        return next(o for o in self.settings.operators if o.org_id == org_id)
