"""What every buyer handler works with: database, tables, settings, clock, state machines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lotflow.reference.buyer.settings import BuyerSettings
from lotflow.reference.buyer.tables import BuyerTables

from lotflow.clock import Clock
from lotflow.db import Database
from lotflow.openapi import webhooks
from lotflow.workflow import StateMachine, load_workflow


@dataclass
class BuyerContext:
    db: Database
    tables: BuyerTables
    settings: BuyerSettings
    clock: Clock
    spec: dict[str, Any]
    wake: Callable[[], None] = lambda: None
    delivery_paths: dict[str, str] = field(init=False)
    lot_machine: StateMachine = field(init=False)
    bid_machine: StateMachine = field(init=False)
    counter_machine: StateMachine = field(init=False)
    contract_machine: StateMachine = field(init=False)

    def __post_init__(self) -> None:
        workflow = load_workflow()
        self.lot_machine = workflow.machine("buyer.lot")
        self.bid_machine = workflow.machine("buyer.bid")
        self.counter_machine = workflow.machine("buyer.counter_offer")
        self.contract_machine = workflow.machine("buyer.contract")
        self.delivery_paths = {
            event: item["post"]["x-lotflow-delivery-path"]
            for event, item in webhooks(self.spec).items()
        }
