"""What every buyer service works with: settings, database, clock, state machines, and the
write transaction (:class:`Tx`) that carries a change, its webhook events and its notifications
into the database together.

A state change is one call, :meth:`Tx.move` (or :meth:`Tx.create` for a new entity; see
``lotflow.reference.common.transaction``): it asks the entity's machine in
``spec/workflow.yaml`` for the transition (an illegal one raises
:class:`~lotflow.errors.IllegalTransitionError` and nothing is written), saves the new revision
conditionally on the one that was read, and queues exactly the events that transition emits.
When the transaction's block ends, the queued events are written to the outbox, each payload
holding the members its schema in the spec declares: the entity itself, the entities its ids
link to (as this transaction left them), and the linked entities this transaction wrote (a bid's
``contract`` and ``counterOffer``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from lotflow.reference.buyer import outbox, tables
from lotflow.reference.buyer.answers import AnswerCache
from lotflow.reference.buyer.kinds import KINDS
from lotflow.reference.buyer.settings import BuyerSettings
from lotflow.reference.buyer.wakeup import WakeSignal
from lotflow.reference.common.notifications import Notifications
from lotflow.reference.common.store import Doc, Kind
from lotflow.reference.common.transaction import Transaction
from sqlalchemy.exc import IntegrityError

from lotflow.clock import Clock, isoformat
from lotflow.db import Database
from lotflow.errors import ConflictError
from lotflow.openapi import load_portal_spec, resolve, webhooks
from lotflow.workflow import StateMachine, Transition, load_workflow

__all__ = ["BuyerContext", "Tx"]

_ENVELOPE = ("event", "eventId", "timestamp")  # written by the outbox itself


@dataclass
class BuyerContext:
    """The portal's shared, read-only state (one per app, one per dispatcher)."""

    settings: BuyerSettings
    db: Database
    clock: Clock
    signal: WakeSignal = field(default_factory=WakeSignal)
    spec: dict[str, Any] = field(default_factory=lambda: load_portal_spec("buyer"))
    delivery_paths: dict[str, str] = field(init=False)
    event_parts: dict[str, tuple[str, ...]] = field(init=False)
    machines: dict[Kind, StateMachine] = field(init=False)
    notifications: Notifications = field(init=False)
    answers: AnswerCache = field(init=False)

    def __post_init__(self) -> None:
        self.answers = AnswerCache(self.db, enabled=self.settings.answer_cache)
        self.notifications = Notifications(tables.notifications)
        workflow = load_workflow()
        self.machines = {kind: workflow.machine(f"buyer.{name}") for name, kind in KINDS.items()}
        hooks = webhooks(self.spec)
        self.delivery_paths = {
            e: item["post"]["x-lotflow-delivery-path"] for e, item in hooks.items()
        }
        self.event_parts = {e: _payload_members(self.spec, item) for e, item in hooks.items()}

    def machine(self, kind: Kind) -> StateMachine:
        """The state machine of ``kind``'s entities."""
        return self.machines[kind]

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction; commits when the block ends, rolls back when it raises.

        The events the block's transitions emit are written before the commit. A unique
        constraint that fires becomes a ``ConflictError`` (a concurrent request made the same
        change first); the dispatcher is woken after the commit when events were added (with
        group commit, when the group commits).
        """
        try:
            with self.db.write() as conn:
                now = self.clock.now()
                tx = Tx(conn, now, isoformat(now), self.machines, self.notifications, ctx=self)
                yield tx
                tx.flush()
        except IntegrityError as exc:
            raise ConflictError(
                "A concurrent request made the same change first; nothing was changed.",
                "conflict",
            ) from exc
        if tx.woke:
            self.db.after_commit(self.signal.notify)

    def stamp(self) -> str:
        """The current instant as lotflow writes it."""
        return isoformat(self.clock.now())


def _payload_members(spec: dict[str, Any], item: Mapping[str, Any]) -> tuple[str, ...]:
    """The members a webhook's payload schema declares, but the envelope's."""
    body = resolve(spec, item["post"]["requestBody"])
    schema = resolve(spec, body["content"]["application/json"]["schema"])
    return tuple(name for name in schema.get("properties", {}) if name not in _ENVELOPE)


@dataclass(frozen=True)
class _Pending:
    """An event a transition emitted, written to the outbox when the transaction's block ends."""

    event: str
    kind: Kind
    entity_id: str
    said: Mapping[str, Any]


@dataclass
class Tx(Transaction):
    """One write transaction of the buyer: a :class:`Transaction` whose transitions queue the
    webhook events they emit, written to the outbox by :meth:`flush`."""

    ctx: BuyerContext = field(kw_only=True)
    woke: bool = False
    _pending: list[_Pending] = field(default_factory=list)

    def wrote(self, kind: Kind, doc: Doc, step: Transition, say: Mapping[str, Any] | None) -> None:
        """Remember ``doc`` and queue the events of ``step`` about it."""
        super().wrote(kind, doc, step, say)
        for event in step.emits:
            self._pending.append(_Pending(event, kind, doc["_id"], dict(say or {})))

    # ------------------------------------------------------------------ events

    def flush(self) -> None:
        """Write the queued events to the outbox in the order their transitions were made, the
        lot's own events last: the lot is written first (the portal's one order of writes), but
        its new state is the outcome of what happened to its bids, so a producer that reads
        the events in order learns each bid's fate while the lot still shows it open."""
        pending, self._pending = self._pending, []
        pending.sort(key=lambda item: item.kind.part == "lot")  # stable: the rest keep their order
        for item in pending:
            members = self._members(item)
            self.enqueue(item.event, members["lot"]["orgId"], members)

    def _members(self, item: _Pending) -> dict[str, Any]:
        """The payload members of ``item``'s event that this transaction can give."""
        doc = self.written[(item.kind, item.entity_id)]
        found: dict[str, Any] = {item.kind.part: doc}
        for link, kind in item.kind.links.items():
            found[kind.part] = self.current(kind, doc[link])
        for (kind, _), written in self.written.items():
            if (
                item.kind in kind.links.values()
                and written.get(_link_to(kind, item.kind)) == doc["_id"]
            ):
                found.setdefault(kind.part, written)
        if "lot" in found:
            found["organization"] = self.organization(found["lot"])
        wanted = self.ctx.event_parts[item.event]
        members = {name: found[name] for name in wanted if found.get(name) is not None}
        return members | dict(item.said)

    def enqueue(self, event: str, org_id: str, parts: dict[str, Any]) -> str:
        """Write one event with these payload members to the outbox now; its id is returned.
        Services emit through their transitions (:meth:`move`); this is for tools that load
        the outbox (benchmarks, fault drills)."""
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

    # ------------------------------------------------------------------ the rest

    def organization(self, lot: Doc) -> Doc:
        """The ``organization`` of a lot event."""
        return {"_id": lot["orgId"], "name": self.ctx.settings.organisation_name(lot["orgId"])}

    def expiry_set(self) -> None:
        """Something now expires at a time the dispatcher's sweep must wake up for."""
        self.woke = True


def _link_to(kind: Kind, target: Kind) -> str:
    """The field of ``kind`` that holds a ``target``'s id."""
    return next(name for name, linked in kind.links.items() if linked is target)
