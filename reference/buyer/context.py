"""What every buyer service works with: settings, database, clock, state machines, and the
write transaction (:class:`Tx`) that carries a change, its webhook events and its notifications
into the database together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lotflow.reference.buyer import notifications, outbox
from lotflow.reference.buyer.answers import AnswerCache
from lotflow.reference.buyer.settings import BuyerSettings
from lotflow.reference.buyer.store import Doc, StaleWrite
from lotflow.reference.buyer.wakeup import WakeSignal
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from lotflow.clock import Clock, isoformat
from lotflow.db import Database
from lotflow.ids import new_object_id
from lotflow.openapi import load_portal_spec, webhooks
from lotflow.problems import Problem
from lotflow.workflow import StateMachine, load_workflow

__all__ = ["BuyerContext", "Tx"]


@dataclass
class BuyerContext:
    """The portal's shared, read-only state (one per app, one per dispatcher)."""

    settings: BuyerSettings
    db: Database
    clock: Clock
    signal: WakeSignal = field(default_factory=WakeSignal)
    spec: dict[str, Any] = field(default_factory=lambda: load_portal_spec("buyer"))
    delivery_paths: dict[str, str] = field(init=False)
    lot_machine: StateMachine = field(init=False)
    bid_machine: StateMachine = field(init=False)
    counter_machine: StateMachine = field(init=False)
    contract_machine: StateMachine = field(init=False)
    answers: AnswerCache = field(init=False)

    def __post_init__(self) -> None:
        self.answers = AnswerCache(self.db, enabled=self.settings.answer_cache)
        workflow = load_workflow()
        self.lot_machine = workflow.machine("buyer.lot")
        self.bid_machine = workflow.machine("buyer.bid")
        self.counter_machine = workflow.machine("buyer.counter_offer")
        self.contract_machine = workflow.machine("buyer.contract")
        self.delivery_paths = {
            event: item["post"]["x-lotflow-delivery-path"]
            for event, item in webhooks(self.spec).items()
        }

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction; commits when the block ends, rolls back when it raises.

        A concurrent change (a conditional update that matched nothing) or a unique constraint
        becomes a 409 problem; the dispatcher is woken after the commit when events were added
        (with group commit, when the group commits).
        """
        try:
            with self.db.write() as conn:
                now = self.clock.now()
                tx = Tx(conn, now, isoformat(now), self)
                yield tx
        except StaleWrite as exc:
            raise Problem.conflict(
                "version_conflict",
                f"The {exc.kind} {exc.entity_id} changed while this request was handled; "
                "nothing was changed. Read it again and retry.",
            ) from exc
        except IntegrityError as exc:
            raise Problem.conflict(
                "conflict", "A concurrent request made the same change first; nothing was changed."
            ) from exc
        if tx.woke:
            self.db.after_commit(self.signal.notify)

    def stamp(self) -> str:
        """The current instant as lotflow writes it."""
        return isoformat(self.clock.now())


@dataclass
class Tx:
    """One write transaction: its connection, its instant, and what it emits."""

    conn: Connection
    now: datetime
    stamp: str
    ctx: BuyerContext
    woke: bool = False

    def new_id(self) -> str:
        """A new entity id stamped with the injected clock."""
        return new_object_id(int(self.now.timestamp()))

    def emit(self, event: str, org_id: str, **parts: Any) -> str:
        """Write webhook ``event`` to the outbox in this transaction; its id is returned."""
        self.woke = True
        return outbox.enqueue(
            self.conn,
            event=event,
            org_id=org_id,
            path=self.ctx.delivery_paths[event],
            parts=parts,
            now=self.now,
            stamp=self.stamp,
            max_attempts=self.ctx.settings.webhook_max_attempts,
        )

    def organization(self, lot: Doc) -> Doc:
        """The ``organization`` of a lot event."""
        return {"_id": lot["orgId"], "name": self.ctx.settings.organisation_name(lot["orgId"])}

    def notify(self, org_id: str, kind: str, title: str, message: str, **about: str | None) -> None:
        """Record a notification for the buyer organisation in this transaction."""
        notifications.record(
            self.conn, self.new_id(), self.stamp, org_id, kind, title, message, about
        )

    def expiry_set(self) -> None:
        """Something now expires at a time the dispatcher's sweep must wake up for."""
        self.woke = True
