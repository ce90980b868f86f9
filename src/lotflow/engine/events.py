"""What the engine emits. Reporters turn these into terminal output, JUnit, JSON and stories."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Exchange:
    """One HTTP call a step made and what came back."""

    party: str
    operation: str
    method: str
    url: str
    request_body: Any
    status: int | None
    response_body: Any
    duration_ms: float


@dataclass(frozen=True)
class WebhookSeen:
    """One delivery attempt the tap saw between the buyer and the producer."""

    event: str
    webhook_id: str
    path: str
    attempt: int
    status: int | None
    delivered: bool
    body: Any = field(repr=False, default=None)


@dataclass(frozen=True)
class Failure:
    """A check that did not hold: what was expected, what was seen."""

    check: str
    message: str
    expected: Any = None
    observed: Any = None


@dataclass(frozen=True)
class RunStarted:
    scenarios: tuple[str, ...]
    parties: dict[str, str]
    total_steps: int


@dataclass(frozen=True)
class ScenarioStarted:
    name: str
    slug: str
    description: str
    index: int
    total: int


@dataclass(frozen=True)
class StepStarted:
    scenario: str
    step_id: str
    title: str


@dataclass(frozen=True)
class StepResult:
    scenario: str
    slug: str
    step_id: str
    title: str
    actor: str
    kind: str
    duration: float
    failures: tuple[Failure, ...] = ()
    exchanges: tuple[Exchange, ...] = ()
    webhooks: tuple[WebhookSeen, ...] = ()
    skipped: bool = False

    @property
    def passed(self) -> bool:
        return not self.failures and not self.skipped


@dataclass(frozen=True)
class StepPassed:
    result: StepResult


@dataclass(frozen=True)
class StepFailed:
    result: StepResult


@dataclass(frozen=True)
class StepSkipped:
    """Not run, because an earlier step of the scenario failed."""

    result: StepResult


@dataclass(frozen=True)
class ScenarioFinished:
    name: str
    slug: str
    passed: bool
    duration: float
    steps: tuple[StepResult, ...]


@dataclass(frozen=True)
class RunFinished:
    passed: int
    failed: int
    steps_passed: int
    steps_failed: int
    steps_skipped: int
    duration: float

    @property
    def ok(self) -> bool:
        return self.failed == 0


Event = (
    RunStarted
    | ScenarioStarted
    | StepStarted
    | StepPassed
    | StepFailed
    | StepSkipped
    | ScenarioFinished
    | RunFinished
)
