"""What the engine emits, as data. Reporters turn these into terminal output, JUnit, JSON and
stories; the engine itself never prints.

A run yields, in order::

    RunStarted
      ScenarioStarted
        StepStarted → StepPassed | StepFailed      (each step that runs)
        StepSkipped                                 (each step after a failed one)
      ScenarioFinished
      ...
    RunFinished | RunInterrupted | RunErrored       (exactly one of them ends every run)

Every event derives from :class:`EngineEvent` (the run's id and the moment it was emitted);
scenario events add the scenario (:class:`ScenarioEvent`), step events the step
(:class:`StepEvent`). Events and step results are built by keyword only. A run that stopped
early says why: :class:`RunInterrupted` (Ctrl-C, a closed runner) or :class:`RunErrored` (the
parties are misconfigured, ``kind="configuration"``, or lotflow itself broke, ``"internal"``);
both carry the counts of what finished before.

Every step result carries the HTTP exchanges the step made (secrets redacted) and the webhook
deliveries the tap saw while it ran; a failed step carries :class:`Failure` records.

:class:`ScenarioFinished` also carries ``final``: once the scenario's last step has run (passed
or failed; not when the run was interrupted), every lot, bid and contract a portal showed during
the scenario is read again from that portal, as the actor it showed it to, and each read is a
:class:`FinalRead` (see :mod:`lotflow.engine.finals`). That is what each portal shows at the end,
observed rather than remembered; a read that fails says so (``status`` None, ``reason``) and
never fails the scenario: it is a report, not a check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["passed", "failed", "skipped"]
ErrorKind = Literal["configuration", "internal"]


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


@dataclass(frozen=True, kw_only=True)
class Exchange:
    """One HTTP call a step made: ``purpose`` is ``call``, ``state`` or ``agree`` (``final``:
    a read made once the scenario ended, see :class:`FinalRead`).

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


@dataclass(frozen=True, kw_only=True)
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
    network: str = ""


@dataclass(frozen=True)
class Failure:
    """A check that did not hold.

    ``check`` is one of ``status``, ``body``, ``save``, ``webhook``, ``state``, ``agree``,
    ``variable``, ``transport``, ``outage``, ``network``, ``config``. ``request``/``response``
    are the exchange the failure is about, when there is one.
    """

    check: str
    message: str
    expected: Any = None
    observed: Any = None
    request: HttpRequest | None = None
    response: HttpResponse | None = None


@dataclass(frozen=True, kw_only=True)
class StepResult:
    """Everything known about one step once it has run (or been skipped).

    ``note`` says in words what a step without a call did (an outage step: offline or back; a
    network step: the fault it set, or the held copies it forwarded).
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


@dataclass(frozen=True, kw_only=True)
class FinalRead:
    """One entity a portal showed during a scenario, read again once the scenario ended.

    ``portal`` showed the ``entity`` (``lot``, ``bid``, ``contract``) with id ``entity_id``
    (the portal's own id) to ``actor``, whose credentials read it again. ``exchange`` is that
    read (purpose ``final``; None when none could be sent). ``status`` is what the portal shows
    now and ``shown`` the entity as it answered; when the state is unknown, ``status`` is None
    and ``reason`` says why (a 404, an unreachable portal, no operation to read it with).
    """

    portal: str
    entity: str
    entity_id: str
    actor: str
    exchange: Exchange | None = None
    status: str | None = None
    reason: str = ""
    shown: Any = field(default=None, repr=False)

    @property
    def known(self) -> bool:
        """The portal answered with the entity's status."""
        return self.status is not None


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


# ---------------------------------------------------------------- the events
@dataclass(frozen=True, kw_only=True)
class EngineEvent:
    """What every event carries: the run it belongs to and when it was emitted (ISO 8601)."""

    run_id: str
    at: str


@dataclass(frozen=True, kw_only=True)
class ScenarioEvent(EngineEvent):
    """An event about one scenario: its name and slug (the file name without extension)."""

    scenario: str
    slug: str

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.scenario


@dataclass(frozen=True, kw_only=True)
class StepEvent(ScenarioEvent):
    """An event about one step of a scenario."""

    step_id: str


@dataclass(frozen=True, kw_only=True)
class RunStarted(EngineEvent):
    """The run begins: scenario names, the parties (no secrets), how many steps in all."""

    scenarios: tuple[str, ...]
    parties: dict[str, str]
    total_steps: int


@dataclass(frozen=True, kw_only=True)
class ScenarioStarted(ScenarioEvent):
    """A scenario begins (``index`` of ``total``, 1-based)."""

    description: str = ""
    index: int
    total: int
    steps: int = 0
    tags: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class StepStarted(StepEvent):
    """A step begins (``index`` within its scenario, 1-based)."""

    title: str
    index: int = 0


@dataclass(frozen=True, kw_only=True)
class StepPassed(StepEvent):
    """A step ran and all its checks held."""

    result: StepResult


@dataclass(frozen=True, kw_only=True)
class StepFailed(StepEvent):
    """A step ran and at least one check failed (``result.failures``)."""

    result: StepResult


@dataclass(frozen=True, kw_only=True)
class StepSkipped(StepEvent):
    """A step was not run because an earlier step of its scenario failed."""

    result: StepResult


@dataclass(frozen=True, kw_only=True)
class ScenarioFinished(ScenarioEvent):
    """A scenario ended; ``steps`` holds every step's result in order, ``final`` what each
    portal showed of the scenario's entities once it ended (in the order first seen); ``note``
    what ending it undid (webhook copies the network still held, discarded unsent)."""

    passed: bool
    duration: float
    steps: tuple[StepResult, ...] = ()
    final: tuple[FinalRead, ...] = ()
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RunEnded(EngineEvent):
    """What the three ways a run ends share: the counts of what finished."""

    summary: RunSummary

    @property
    def ok(self) -> bool:
        """Every scenario passed and the run was not cut short."""
        return self.summary.ok

    @property
    def exit_code(self) -> int:
        """0 when every scenario passed, 1 otherwise."""
        return self.summary.exit_code

    @property
    def complete(self) -> bool:
        """The run went to its end (only :class:`RunFinished` says so)."""
        return False

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


@dataclass(frozen=True, kw_only=True)
class RunFinished(RunEnded):
    """The run went through every scenario. The counts are in ``summary``."""

    @property
    def complete(self) -> bool:
        """The run went to its end."""
        return True


@dataclass(frozen=True, kw_only=True)
class RunInterrupted(RunEnded):
    """The run was stopped before its end (``reason``: e.g. Ctrl-C); exit 130 on the CLI.

    ``scenario``/``step_id`` name what was running, when known.
    """

    reason: str
    scenario: str = ""
    step_id: str = ""

    @property
    def ok(self) -> bool:
        """An interrupted run never passes."""
        return False

    @property
    def exit_code(self) -> int:
        """130, the shell's code for a run ended by SIGINT."""
        return 130


@dataclass(frozen=True, kw_only=True)
class RunErrored(RunEnded):
    """The run stopped because it could not go on.

    ``kind`` is ``configuration`` (the parties or lotflow's options are wrong: exit 2, and
    ``setting`` names what to change) or ``internal`` (lotflow itself failed).
    """

    kind: ErrorKind
    message: str
    setting: str = ""

    @property
    def ok(self) -> bool:
        """An errored run never passes."""
        return False

    @property
    def exit_code(self) -> int:
        """2: a configuration or usage error, as the CLI documents."""
        return 2


StepEnded = StepPassed | StepFailed | StepSkipped
RunEnd = RunFinished | RunInterrupted | RunErrored

Event = (
    RunStarted
    | ScenarioStarted
    | StepStarted
    | StepPassed
    | StepFailed
    | StepSkipped
    | ScenarioFinished
    | RunFinished
    | RunInterrupted
    | RunErrored
)
