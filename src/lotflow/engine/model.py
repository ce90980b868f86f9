"""A scenario, as data: what the loader builds and the runner executes.

A scenario is a list of steps; a step is exactly one of four kinds::

    CallStep     an actor calls an operation, then checks run
    OutageStep   the webhook tap takes the producer offline or brings it back
    NetworkStep  the webhook tap sets a delivery fault, or forwards the copies it held back
    WaitStep     no call: only checks (webhooks, state, agreement) that must come to hold

Every kind carries :class:`Checks`; the loader fills only those the format allows for the kind.
Strings anywhere in a call, an expectation or a match may hold ``${variables}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

DEFAULT_WITHIN = 10.0
"""Seconds a webhook, state or agreement check may take to come true (``within``)."""

DEFAULT_PRODUCERS = ("alpha",)


@dataclass(frozen=True)
class Call:
    """An operation to call as ``actor`` (``buyer``, ``producer`` or ``producer:<alias>``)."""

    actor: str
    operation: str
    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Expectation:
    """What the response of a call step must look like; no ``status`` means any 2xx."""

    status: tuple[int, ...] = ()
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookExpectation:
    """A webhook that must reach the producer (through the tap) within a deadline.

    ``count`` is the exact number of distinct webhook-ids (None: at least one; 0: none at all,
    watched for the whole ``within``). ``delivered`` asks for a 2xx answer from the producer
    (True) or for an attempt the producer did not accept (False, e.g. during an outage).
    ``answer`` (pointer → value) asks for the producer's answer to hold these values, e.g.
    ``{/duplicate: true}`` for a repeated webhook-id.
    """

    event: str
    match: dict[str, Any] = field(default_factory=dict)
    within: float = DEFAULT_WITHIN
    count: int | None = None
    delivered: bool = True
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StateCheck:
    """A read on one party, polled until its answer matches ``expect`` (pointer → value)."""

    call: Call
    expect: dict[str, Any]
    status: tuple[int, ...] = ()
    within: float = DEFAULT_WITHIN


@dataclass(frozen=True)
class Agreement:
    """Both portals' view of one entity: the buyer's value, mapped, equals the producer's."""

    entity: str
    buyer: Call
    buyer_at: str
    producer: Call
    producer_at: str
    within: float = DEFAULT_WITHIN


@dataclass(frozen=True)
class Checks:
    """What must hold after a step: webhooks seen, state on each side, agreement."""

    webhooks: tuple[WebhookExpectation, ...] = ()
    state: tuple[StateCheck, ...] = ()
    agree: tuple[Agreement, ...] = ()

    def calls(self) -> list[Call]:
        """Every call these checks make (for the loader's operation checks)."""
        found = [check.call for check in self.state]
        return found + [side for a in self.agree for side in (a.buyer, a.producer)]


@dataclass(frozen=True)
class CallStep:
    """An actor calls an operation; the response is checked, values saved, then ``checks``."""

    kind: ClassVar[str] = "call"
    id: str
    title: str
    line: int
    call: Call
    expect: Expectation = field(default_factory=Expectation)
    save: dict[str, str] = field(default_factory=dict)
    checks: Checks = field(default_factory=Checks)

    @property
    def actor(self) -> str:
        """Who acts in this step."""
        return self.call.actor


@dataclass(frozen=True)
class OutageStep:
    """The tap stops forwarding to the producer (``down``) or starts again."""

    kind: ClassVar[str] = "outage"
    id: str
    title: str
    line: int
    down: bool
    party: str = "producer"
    checks: Checks = field(default_factory=Checks)

    @property
    def actor(self) -> str:
        """lotflow itself acts (it controls the tap)."""
        return "lotflow"


@dataclass(frozen=True)
class NetworkStep:
    """The network between the portals, as the tap plays it: ``fault`` (a
    :class:`~lotflow.engine.tap.NetworkFault` value) applies to every delivery until the next
    network step; or ``release`` forwards the copies the tap holds back (those of ``event``
    whose body holds ``match``, in the order held or ``reversed``; with ``event`` or ``match``,
    once one such copy is held, waiting ``within`` seconds at most)."""

    kind: ClassVar[str] = "network"
    id: str
    title: str
    line: int
    fault: str | None = None
    release: bool = False
    event: str | None = None
    match: dict[str, Any] = field(default_factory=dict)
    reversed: bool = False
    within: float = DEFAULT_WITHIN
    checks: Checks = field(default_factory=Checks)

    @property
    def actor(self) -> str:
        """lotflow itself acts (it controls the tap)."""
        return "lotflow"


@dataclass(frozen=True)
class WaitStep:
    """No call: wait until ``checks`` hold (webhooks are looked for since the scenario began)."""

    kind: ClassVar[str] = "wait"
    id: str
    title: str
    line: int
    checks: Checks = field(default_factory=Checks)

    @property
    def actor(self) -> str:
        """lotflow itself watches."""
        return "lotflow"


Step = CallStep | OutageStep | NetworkStep | WaitStep


@dataclass(frozen=True)
class Scenario:
    """One story, loaded from ``path``."""

    name: str
    path: Path
    steps: tuple[Step, ...]
    description: str = ""
    tags: tuple[str, ...] = ()
    producers: tuple[str, ...] = DEFAULT_PRODUCERS

    @property
    def slug(self) -> str:
        """A short stable identifier: the file name without its extension."""
        return self.path.stem

    def producer_alias(self, actor: str) -> str:
        """The producer alias an actor names (``producer`` alone means the first one)."""
        return actor.partition(":")[2] or self.producers[0]
