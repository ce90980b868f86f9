"""A scenario, as data."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_WITHIN = 10.0


@dataclass(frozen=True)
class Request:
    """An operation to call, on behalf of an actor (``buyer``, ``producer`` or
    ``producer:<alias>``)."""

    actor: str
    operation: str
    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class WebhookExpectation:
    event: str
    match: dict[str, Any] = field(default_factory=dict)
    within: float = DEFAULT_WITHIN
    count: int | None = None
    delivered: bool = True


@dataclass(frozen=True)
class StateCheck:
    request: Request
    expect: dict[str, Any]
    within: float = DEFAULT_WITHIN


@dataclass(frozen=True)
class Agreement:
    entity: str
    buyer: Request
    buyer_at: str
    producer: Request
    producer_at: str
    within: float = DEFAULT_WITHIN


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    line: int
    request: Request | None = None
    expect_status: tuple[int, ...] | None = None
    expect_body: dict[str, Any] = field(default_factory=dict)
    save: dict[str, str] = field(default_factory=dict)
    webhooks: tuple[WebhookExpectation, ...] = ()
    state: tuple[StateCheck, ...] = ()
    agree: tuple[Agreement, ...] = ()
    outage: bool | None = None

    @property
    def kind(self) -> str:
        return "call" if self.request else "outage" if self.outage is not None else "wait"


@dataclass(frozen=True)
class Scenario:
    name: str
    path: Path
    steps: tuple[Step, ...]
    description: str = ""
    tags: tuple[str, ...] = ()
    producers: tuple[str, ...] = ("alpha",)

    @property
    def slug(self) -> str:
        return self.path.stem
