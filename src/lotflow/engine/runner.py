"""Run scenarios between two parties reachable over HTTP, and emit the results as events.

The runner knows the parties only by base URL and credentials, so a reference portal, a
simulator and a real portal are interchangeable. Webhooks are observed through the tap; state is
checked on both sides by polling the portals' own read operations until a deadline. Once a
scenario's steps are done (passed or failed), every entity it touched is read again from its
portal (:mod:`lotflow.engine.finals`) and carried by its ScenarioFinished. Iterate
:meth:`Runner.run` and hand each event to the reporters::

    with Runner(parties, status_mapping=workflow.mapping) as runner:
        for event in runner.run(scenarios):
            for reporter in reporters:
                reporter.handle(event)

Every run ends with exactly one RunFinished, RunInterrupted or RunErrored event.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from types import TracebackType

import httpx

from lotflow.clock import Clock, SystemClock, isoformat
from lotflow.engine import events as ev
from lotflow.engine.calls import Caller
from lotflow.engine.checks import ConfigurationStop
from lotflow.engine.finals import FinalReader
from lotflow.engine.model import Scenario, Step
from lotflow.engine.operations import OperationRef, operation_index
from lotflow.engine.parties import Parties, TapControl
from lotflow.engine.steps import (
    ScenarioState,
    StatusMapping,
    StepExecutor,
    StepRecord,
    WebhookWatch,
)
from lotflow.engine.tap import HeldCopy
from lotflow.interrupts import stopped_by

__all__ = ["OperationRef", "Parties", "Runner", "TapControl", "operation_index"]


class Runner:
    """Runs scenarios and yields :mod:`lotflow.engine.events`; never prints.

    ``transport_factory`` makes the httpx transport for the calls (tests pass a MockTransport);
    ``pause`` waits between polls (default: an interruptible wait that :meth:`close` ends).
    ``settle`` is how long an exact webhook ``count`` keeps being watched once it is reached, so
    that a duplicate arriving just after is still caught. ``watch`` (see
    :meth:`lotflow.engine.preflight.Preflight.watch_webhooks`) looks at the webhook route while a
    step waits for a webhook, and may stop the run with a configuration error.
    """

    def __init__(
        self,
        parties: Parties,
        operations: Mapping[str, OperationRef] | None = None,
        status_mapping: StatusMapping | None = None,
        *,
        clock: Clock | None = None,
        transport_factory: Callable[[], httpx.BaseTransport] | None = None,
        timeout: float = 15.0,
        poll_interval: float = 0.05,
        pause: Callable[[float], object] | None = None,
        run_id: str | None = None,
        settle: float = 0.5,
        watch: WebhookWatch | None = None,
    ) -> None:
        self.parties = parties
        self.clock: Clock = clock or SystemClock()
        self.run_id = run_id or secrets.token_hex(4)
        self._stopping = threading.Event()
        self._started = self.clock.monotonic()
        self._finished: list[ev.ScenarioFinished] = []
        self._current = ("", "")
        transport = transport_factory() if transport_factory else None
        self._client = httpx.Client(transport=transport, timeout=timeout)
        index = operations if operations is not None else parties.operations
        caller = Caller(parties, index, self._client, self.clock)
        self._finals = FinalReader(caller)
        self._steps = StepExecutor(
            parties,
            caller,
            self.clock,
            status_mapping or {},
            poll_interval=poll_interval,
            settle=settle,
            pause=pause or self._stopping.wait,
            stopping=self._stopping,
            watch=watch,
        )

    # ---------------------------------------------------------------- the run
    def run(self, scenarios: Iterable[Scenario]) -> Iterator[ev.Event]:
        """Run every scenario in order; a failed step skips the rest of its scenario.

        The last event is always one of :data:`~lotflow.engine.events.RunEnd`: RunFinished,
        RunErrored (a :class:`ConfigurationStop` or an unexpected error, which is raised again
        once the event is taken) or RunInterrupted (Ctrl-C while the runner works; the
        interrupt is raised again too).
        """
        chosen = list(scenarios)
        self._started = self.clock.monotonic()
        self._steps.run_mark = self._steps.mark()
        self._finished = []
        yield ev.RunStarted(
            **self._stamp(),
            scenarios=tuple(s.name for s in chosen),
            parties=self.parties.describe(),
            total_steps=sum(len(s.steps) for s in chosen),
        )
        try:
            for index, scenario in enumerate(chosen, start=1):
                self._finished.append((yield from self._scenario(scenario, index, len(chosen))))
        except ConfigurationStop as stop:
            yield self.errored("configuration", stop.message, stop.setting)
            return
        except KeyboardInterrupt:
            yield self.interrupted(f"interrupted ({stopped_by()})")
            raise
        except Exception as exc:
            yield self.errored("internal", f"{type(exc).__name__}: {exc}")
            raise
        yield ev.RunFinished(**self._stamp(), summary=self._summary())

    def interrupted(self, reason: str) -> ev.RunInterrupted:
        """The event that ends a run stopped from outside (the CLI: Ctrl-C or SIGTERM)."""
        scenario, step = self._current
        return ev.RunInterrupted(
            **self._stamp(), summary=self._summary(), reason=reason, scenario=scenario, step_id=step
        )

    def errored(self, kind: ev.ErrorKind, message: str, setting: str = "") -> ev.RunErrored:
        """The event that ends a run that cannot go on."""
        return ev.RunErrored(
            **self._stamp(), summary=self._summary(), kind=kind, message=message, setting=setting
        )

    def _stamp(self) -> dict[str, str]:
        return {"run_id": self.run_id, "at": isoformat(self.clock.now())}

    def _summary(self) -> ev.RunSummary:
        return _summary(self._finished, self.clock.monotonic() - self._started)

    def close(self) -> None:
        """End any wait in progress and release the HTTP client."""
        self._stopping.set()
        self._client.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _scenario(
        self, scenario: Scenario, index: int, total: int
    ) -> Generator[ev.Event, None, ev.ScenarioFinished]:
        names = {"scenario": scenario.name, "slug": scenario.slug}
        yield ev.ScenarioStarted(
            **self._stamp(),
            **names,
            description=scenario.description,
            index=index,
            total=total,
            steps=len(scenario.steps),
            tags=scenario.tags,
            source=str(scenario.path),
        )
        started = self.clock.monotonic()
        run = ScenarioState(scenario, {"run_id": f"{self.run_id}-{index}"}, self._steps.mark())
        results: list[ev.StepResult] = []
        discarded: list[HeldCopy] = []
        try:
            for number, step in enumerate(scenario.steps, start=1):
                result = yield from self._step_events(run, step, number, results)
                results.append(result)
        finally:
            if self.parties.tap is not None:  # an outage or a network fault never outlives
                discarded = self.parties.tap.reset()  # its scenario
        final = () if self._stopping.is_set() else self._finals.read(scenario, results)
        finished = ev.ScenarioFinished(
            **self._stamp(),
            **names,
            passed=all(r.passed for r in results),
            duration=round(self.clock.monotonic() - started, 3),
            steps=tuple(results),
            final=final,
            note=_discarded(discarded),
        )
        yield finished
        return finished

    def _step_events(
        self, run: ScenarioState, step: Step, number: int, earlier: list[ev.StepResult]
    ) -> Generator[ev.Event, None, ev.StepResult]:
        ids = {
            **self._stamp(),
            "scenario": run.scenario.name,
            "slug": run.scenario.slug,
            "step_id": step.id,
        }
        if any(not r.passed for r in earlier):
            skipped = self._steps.result(run, step, "skipped", 0.0, StepRecord(), ())
            yield ev.StepSkipped(**ids, result=skipped)
            return skipped
        yield ev.StepStarted(**ids, title=step.title, index=number)
        self._current = (run.scenario.name, step.id)
        result = self._steps.execute(run, step)
        self._current = ("", "")
        ended = ev.StepPassed if result.passed else ev.StepFailed
        yield ended(**{**ids, **self._stamp()}, result=result)
        return result


def _discarded(copies: list[HeldCopy]) -> str:
    """What the reset at a scenario's end threw away, in words (empty: nothing)."""
    if not copies:
        return ""
    told = ", ".join(copy.event for copy in copies)
    many = "1 webhook copy" if len(copies) == 1 else f"{len(copies)} webhook copies"
    return f"the network held {many} back when the scenario ended, discarded unsent: {told}"


def _summary(finished: list[ev.ScenarioFinished], duration: float) -> ev.RunSummary:
    steps = [step for scenario in finished for step in scenario.steps]
    return ev.RunSummary(
        passed=sum(1 for s in finished if s.passed),
        failed=sum(1 for s in finished if not s.passed),
        steps_passed=sum(1 for s in steps if s.outcome == "passed"),
        steps_failed=sum(1 for s in steps if s.outcome == "failed"),
        steps_skipped=sum(1 for s in steps if s.outcome == "skipped"),
        duration=round(duration, 3),
    )
