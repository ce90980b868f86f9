"""A portal's write transaction, the one way both reference portals change an entity's state.

:meth:`Transaction.move` (and :meth:`Transaction.create` for a new entity) asks the entity's
machine in ``spec/workflow.yaml`` for the transition (an illegal one raises
:class:`~lotflow.errors.IllegalTransitionError` and nothing is written) and saves the new
revision conditionally on the one that was read (``StaleWrite`` otherwise). A portal whose
transitions emit webhook events (the buyer) extends :meth:`Transaction.wrote` to queue them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lotflow.reference.common import store
from lotflow.reference.common.notifications import Notifications
from lotflow.reference.common.store import Doc, Kind
from sqlalchemy import Connection

from lotflow.ids import new_object_id
from lotflow.workflow import StateMachine, Transition

__all__ = ["Transaction"]


@dataclass
class Transaction:
    """One write transaction: its connection, its instant, the portal's machines by kind and its
    notifications; remembers every entity it wrote (``current`` reads them back)."""

    conn: Connection
    now: datetime
    stamp: str
    machines: Mapping[Kind, StateMachine]
    notifications: Notifications
    written: dict[tuple[Kind, str], Doc] = field(default_factory=dict)

    def new_id(self) -> str:
        """A new entity id stamped with the injected clock."""
        return new_object_id(int(self.now.timestamp()))

    def machine(self, kind: Kind) -> StateMachine:
        """The state machine of ``kind``'s entities."""
        return self.machines[kind]

    def create(
        self,
        kind: Kind,
        doc: Doc,
        cause: str,
        *,
        say: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> str:
        """Insert a new entity through its machine's creation transition for ``cause``; its
        stored JSON text is returned. ``extra``: columns that are not derived from the document."""
        step = self.machine(kind).transition(cause, None, doc["status"], entity_id=doc["_id"])
        text = store.insert(self.conn, kind, doc, **extra)
        self.wrote(kind, doc, step, say)
        return text

    def move(
        self,
        kind: Kind,
        doc: Doc,
        cause: str,
        target: str,
        *,
        say: Mapping[str, Any] | None = None,
        **changes: Any,
    ) -> Doc:
        """Move ``doc`` to ``target`` because of ``cause``, with ``changes``, as its next revision
        (``version`` + 1); see :meth:`replace`. The new revision is returned."""
        moved = store.revise(doc, self.stamp, status=target, **changes)
        return self.replace(kind, doc, moved, cause, say=say)

    def replace(
        self,
        kind: Kind,
        doc: Doc,
        new: Doc,
        cause: str,
        *,
        say: Mapping[str, Any] | None = None,
    ) -> Doc:
        """Write ``new`` over ``doc`` as the transition ``cause`` makes from ``doc``'s status to
        ``new``'s: checked against the workflow, saved only if the row is still the revision and
        in the state that was read, and announced (``say``: payload members that are not
        entities, such as a rejection's ``reason``)."""
        step = self.machine(kind).transition(
            cause, doc["status"], new["status"], entity_id=doc["_id"]
        )
        store.save(self.conn, kind, doc, new, status=doc["status"])
        self.wrote(kind, new, step, say)
        return new

    def revise(self, kind: Kind, doc: Doc, **changes: Any) -> Doc:
        """Save ``changes`` that move no state (a link to a new entity, a note); no event."""
        revised = store.revise(doc, self.stamp, **changes)
        store.save(self.conn, kind, doc, revised)
        self.written[(kind, revised["_id"])] = revised
        return revised

    def current(self, kind: Kind, entity_id: str) -> Doc:
        """The entity as this transaction left it (or as stored); NotFoundError if absent."""
        written = self.written.get((kind, entity_id))
        return written if written is not None else store.require(self.conn, kind, entity_id)

    def wrote(self, kind: Kind, doc: Doc, step: Transition, say: Mapping[str, Any] | None) -> None:
        """``doc`` was written by ``step``; the buyer queues the step's events here."""
        self.written[(kind, doc["_id"])] = doc

    def notify(self, org_id: str, kind: str, title: str, message: str, **about: str | None) -> None:
        """Record a notification for ``org_id`` in this transaction."""
        self.notifications.record(
            self.conn, self.new_id(), self.stamp, org_id, kind, title, message, about
        )
