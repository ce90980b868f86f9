"""What the engine emits, as data. Reporters turn these into terminal output, JUnit, JSON and
stories; the engine itself never prints.

A run yields, in order::

    RunStarted
      ScenarioStarted
        StepStarted → StepPassed | StepFailed      (each step that runs)
        StepSkipped                                 (each step after a failed one)
      ScenarioFinished
      ...
    RunFinished

Every step result carries the HTTP exchanges the step made (secrets redacted) and the webhook
deliveries the tap saw while it ran; a failed step carries :class:`Failure` records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class HttpRequest:
    """A request as sent (credentials redacted; body as JSON when it is JSON)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class HttpResponse:
    """A response as received (bodies longer than a report can hold are cut)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Exchange:
    """One HTTP call a step made: ``purpose`` is ``call``, ``state`` or ``agree``.

    ``portal`` is the portal called (``buyer``/``producer``); ``actor`` whose credentials were
    used. ``response`` is None when the portal could not be reached.
    """

    portal: str
    operation: str
    actor: str
    purpose: str
    request: HttpRequest
    response: HttpResponse | None
    duration_ms: float

    @property
    def status(self) -> int | None:
        """The response status, or None without a response."""
        return self.response.status if self.response else None


@dataclass(frozen=True)
class WebhookSeen:
    """One delivery attempt the tap saw from the buyer to the producer.

    ``attempt`` counts the deliveries with this webhook-id so far (2 = the first retry);
    ``status`` is the producer's answer (None: no answer); ``delivered`` means a 2xx.
    """

    event: str
    webhook_id: str
    path: str
    attempt: int
    status: int | None
    delivered: bool
    received_at: str = ""
    body: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class Failure:
    """A check that did not hold.

    ``check`` is one of ``status``, ``body``, ``save``, ``webhook``, ``state``, ``agree``,
    ``variable``, ``transport``, ``outage``, ``config``. ``request``/``response`` are the exchange
    the failure is about, when there is one.
    """

    check: str
    message: str
    expected: Any = None
    observed: Any = None
    request: HttpRequest | None = None
    response: HttpResponse | None = None


@dataclass(frozen=True)
class StepResult:
    """Everything known about one step once it has run (or been skipped).

    ``note`` says in words what a step without a call did (an outage step: offline or back).
    """

    scenario: str
    slug: str
    step_id: str
    title: str
    kind: str
    actor: str
    line: int
    outcome: Outcome
    duration: float = 0.0
    failures: tuple[Failure, ...] = ()
    exchanges: tuple[Exchange, ...] = ()
    webhooks: tuple[WebhookSeen, ...] = ()
    note: str = ""

    @property
    def passed(self) -> bool:
        """The step ran and every check held."""
        return self.outcome == "passed"

    @property
    def skipped(self) -> bool:
        """The step did not run because an earlier step of its scenario failed."""
        return self.outcome == "skipped"


@dataclass(frozen=True)
class RunStarted:
    """The run begins: scenario names, the parties (no secrets), how many steps in all."""

    scenarios: tuple[str, ...]
    parties: dict[str, str]
    total_steps: int
    run_id: str = ""
    started_at: str = ""


@dataclass(frozen=True)
class ScenarioStarted:
    """A scenario begins (``index`` of ``total``, 1-based)."""

    name: str
    slug: str
    description: str
    index: int
    total: int
    steps: int = 0
    tags: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class StepStarted:
    """A step begins (``index`` within its scenario, 1-based)."""

    scenario: str
    slug: str
    step_id: str
    title: str
    index: int = 0


@dataclass(frozen=True)
class StepPassed:
    """A step ran and all its checks held."""

    result: StepResult


@dataclass(frozen=True)
class StepFailed:
    """A step ran and at least one check failed (``result.failures``)."""

    result: StepResult


@dataclass(frozen=True)
class StepSkipped:
    """A step was not run because an earlier step of its scenario failed."""

    result: StepResult


@dataclass(frozen=True)
class ScenarioFinished:
    """A scenario ended; ``steps`` holds every step's result in order."""

    name: str
    slug: str
    passed: bool
    duration: float
    steps: tuple[StepResult, ...] = ()


@dataclass(frozen=True)
class RunSummary:
    """Counts for the whole run; ``exit_code`` is 0 when every scenario passed, else 1."""

    passed: int
    failed: int
    steps_passed: int
    steps_failed: int
    steps_skipped: int
    duration: float

    @property
    def ok(self) -> bool:
        """Every scenario passed."""
        return self.failed == 0

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this run: 0 all passed, 1 any failure."""
        return 0 if self.ok else 1

    @property
    def steps(self) -> int:
        """Steps in all (passed, failed and skipped)."""
        return self.steps_passed + self.steps_failed + self.steps_skipped


@dataclass(frozen=True)
class RunFinished:
    """The run ended. The counts are in ``summary`` (also readable directly on the event)."""

    summary: RunSummary

    @property
    def ok(self) -> bool:
        """Every scenario passed."""
        return self.summary.ok

    @property
    def exit_code(self) -> int:
        """0 when every scenario passed, 1 otherwise."""
        return self.summary.exit_code

    @property
    def passed(self) -> int:
        """Scenarios that passed."""
        return self.summary.passed

    @property
    def failed(self) -> int:
        """Scenarios that failed."""
        return self.summary.failed

    @property
    def steps_passed(self) -> int:
        """Steps that passed."""
        return self.summary.steps_passed

    @property
    def steps_failed(self) -> int:
        """Steps that failed."""
        return self.summary.steps_failed

    @property
    def steps_skipped(self) -> int:
        """Steps that were skipped."""
        return self.summary.steps_skipped

    @property
    def duration(self) -> float:
        """Seconds the run took."""
        return self.summary.duration


StepEvent = StepPassed | StepFailed | StepSkipped

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
