"""What every producer handler works with: settings, database, clock, the state machines by kind,
the notifications, the client of the buyer's API, and the write transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from lotflow.reference.common.notifications import Notifications
from lotflow.reference.common.settings import Operator
from lotflow.reference.common.store import Kind
from lotflow.reference.common.transaction import Transaction
from lotflow.reference.producer import tables
from lotflow.reference.producer.settings import ProducerSettings
from lotflow.reference.producer.tables import KINDS

from lotflow.client import SpecClient
from lotflow.clock import Clock, isoformat
from lotflow.db import Database
from lotflow.workflow import StateMachine, Workflow, load_workflow

__all__ = ["ProducerContext"]


@dataclass
class ProducerContext:
    """The portal's shared state (one per app)."""

    db: Database
    settings: ProducerSettings
    clock: Clock
    make_buyer: Callable[[], SpecClient]
    workflow: Workflow = field(default_factory=load_workflow)
    notifications: Notifications = field(init=False)
    machines: dict[Kind, StateMachine] = field(init=False)
    _buyer: SpecClient | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.notifications = Notifications(tables.notifications)
        self.machines = {
            kind: self.workflow.machine(f"producer.{name}") for name, kind in KINDS.items()
        }

    def machine(self, kind: Kind) -> StateMachine:
        """The state machine of ``kind``'s entities."""
        return self.machines[kind]

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction; commits when the block ends, rolls back when it raises."""
        with self.db.write() as conn:
            now = self.clock.now()
            yield Transaction(conn, now, isoformat(now), self.machines, self.notifications)

    def stamp(self) -> str:
        """The current instant as lotflow writes it."""
        return isoformat(self.clock.now())

    @property
    def buyer(self) -> SpecClient:
        """The client of the buyer's API, made on first use (and again after ``close_buyer``)."""
        if self._buyer is None:
            self._buyer = self.make_buyer()
        return self._buyer

    def close_buyer(self) -> None:
        """Close the client of the buyer's API, if one was made."""
        if self._buyer is not None:
            self._buyer.close()
            self._buyer = None

    def org_ids(self) -> list[str]:
        """Every operator organisation of this portal."""
        return [o.org_id for o in self.settings.operators]

    def org(self, org_id: str) -> Operator:
        """The operator organisation ``org_id``."""
        return next(o for o in self.settings.operators if o.org_id == org_id)
