"""Executing one step: its call (or outage, or network change), then its checks, into a
StepResult.

Webhook expectations wait on the tap's log until their deadline; state and agreement checks
poll the portals with short, growing pauses until theirs. All deadlines of a step count from the
end of its call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from lotflow.clock import Clock, isoformat
from lotflow.engine import events as ev
from lotflow.engine.calls import Caller, CallResult, Target
from lotflow.engine.checks import (
    StepAborted,
    agreement_failure,
    counted,
    matches,
    pointer_failures,
    status_failure,
    webhook_failure,
    webhook_satisfied,
)
from lotflow.engine.model import (
    Agreement,
    Call,
    CallStep,
    Checks,
    NetworkStep,
    OutageStep,
    Scenario,
    StateCheck,
    Step,
    WaitStep,
    WebhookExpectation,
)
from lotflow.engine.parties import Parties, TapControl
from lotflow.engine.pointers import MISSING, resolve_pointer, show
from lotflow.engine.tap import Delivery, HeldCopy, NetworkFault, WebhookLog
from lotflow.engine.variables import UnknownVariableError, substitute

StatusMapping = Mapping[str, Mapping[str, str | None]]
WebhookWatch = Callable[[list[Delivery], bool], None]
"""Looks at what the tap saw in this run (``True``: a webhook expectation's deadline has just
passed unmet); raises ConfigurationStop when the route is demonstrably broken."""
MAX_POLL_INTERVAL = 0.5
WATCH_SLICE = 0.5


@dataclass
class ScenarioState:
    """What a scenario carries from step to step: its variables and where its webhooks begin."""

    scenario: Scenario
    variables: dict[str, Any]
    mark: int


@dataclass
class StepRecord:
    """What one step has found so far."""

    failures: list[ev.Failure] = field(default_factory=list)
    exchanges: list[ev.Exchange] = field(default_factory=list)
    note: str = ""


class StepExecutor:
    """Runs single steps against the parties (see :class:`~lotflow.engine.runner.Runner`)."""

    def __init__(
        self,
        parties: Parties,
        caller: Caller,
        clock: Clock,
        status_mapping: StatusMapping,
        *,
        poll_interval: float,
        settle: float,
        pause: Callable[[float], object],
        stopping: threading.Event,
        watch: WebhookWatch | None = None,
    ) -> None:
        self.parties = parties
        self.status_mapping = status_mapping
        self.clock = clock
        self.poll_interval = poll_interval
        self.settle = settle
        self._caller = caller
        self._pause = pause
        self._stopping = stopping
        self._watch = watch
        self.run_mark = 0

    def execute(self, run: ScenarioState, step: Step) -> ev.StepResult:
        """Run one step: its call or outage, then its checks."""
        started, mark, record = self.clock.monotonic(), self.mark(), StepRecord()
        try:
            if self._act(run, step, record):
                since = run.mark if isinstance(step, WaitStep) else mark
                self._check(run, step.checks, since, record)
        except StepAborted as exc:
            record.failures.append(exc.failure)
        seen = tuple(_seen(d) for d in self._log_since(mark))
        outcome: ev.Outcome = "failed" if record.failures else "passed"
        return self.result(run, step, outcome, self.clock.monotonic() - started, record, seen)

    def _act(self, run: ScenarioState, step: Step, record: StepRecord) -> bool:
        if isinstance(step, CallStep):
            return self._call_step(run, step, record)
        if isinstance(step, OutageStep):
            self._tap("outage", "An outage step").down = step.down
        if isinstance(step, NetworkStep):
            self._network(run, step, record)
        return True

    def _network(self, run: ScenarioState, step: NetworkStep, record: StepRecord) -> None:
        tap = self._tap("network", "A network step")
        if step.fault is not None:
            tap.fault = NetworkFault(step.fault)
            return
        match = self._sub(step.match, run)

        def chosen(copy: HeldCopy) -> bool:
            if step.event is not None and copy.event != step.event:
                return False
            return not pointer_failures(copy.payload, match, "network")

        def none_held() -> list[ev.Failure]:
            if any(chosen(copy) for copy in tap.held):
                return []
            return [ev.Failure("network", "nothing held matches yet")]

        if step.event is not None or match:  # the buyer sends when it will: wait for the copy
            self._poll(none_held, self.clock.monotonic() + step.within)
        released = tap.release(chosen, reversed_=step.reversed)
        record.note = _released(released, step.event)

    def _call_step(self, run: ScenarioState, step: CallStep, record: StepRecord) -> bool:
        reply = self._send(run, step.call, "call")
        record.exchanges.append(reply.exchange)
        request, response = reply.exchange.request, reply.exchange.response
        failure = status_failure(
            step.call.operation, reply.exchange.status, step.expect.status, request, response
        )
        if failure is not None:
            record.failures.append(failure)
            return False
        expected = self._sub(step.expect.body, run)
        record.failures += pointer_failures(reply.body, expected, "body", "", request, response)
        record.failures += self._save(run, step.save, reply)
        return not record.failures

    def _save(
        self, run: ScenarioState, save: Mapping[str, str], reply: CallResult
    ) -> list[ev.Failure]:
        failures = []
        for name, pointer in save.items():
            value = resolve_pointer(reply.body, pointer)
            if value is MISSING or value is None:
                message = f"cannot save {name}: the response has {show(value)} at {pointer}"
                exchange = reply.exchange
                failures.append(
                    ev.Failure(
                        "save", message, pointer, reply.body, exchange.request, exchange.response
                    )
                )
            else:
                run.variables[name] = value
        return failures

    def _check(self, run: ScenarioState, checks: Checks, since: int, record: StepRecord) -> None:
        started = self.clock.monotonic()
        for expectation in checks.webhooks:
            record.failures += self._webhook(run, expectation, since, started + expectation.within)
        for state in checks.state:
            record.failures += self._state(run, state, started + state.within, record)
        for agreement in checks.agree:
            record.failures += self._agree(run, agreement, started + agreement.within, record)

    # ---------------------------------------------------------------- webhooks
    def _webhook(
        self, run: ScenarioState, expected: WebhookExpectation, since: int, deadline: float
    ) -> list[ev.Failure]:
        log = self._tap("webhook", "A webhook expectation").log
        match = self._sub(expected.match, run)
        answer = self._sub(expected.answer, run)

        def ids() -> set[str]:
            found = [d for d in log.since(since) if matches(d, expected, match, answer)]
            return counted(found, expected)

        remaining = deadline - self.clock.monotonic()
        if expected.count == 0:  # nothing may arrive: watch the whole window
            self._wait(log, lambda: bool(ids()), remaining)
        elif self._wait(log, lambda: webhook_satisfied(ids(), expected), remaining) and (
            expected.count
        ):
            reached = len(ids())  # an exact count: one more arriving soon after would break it
            log.wait_until(lambda: len(ids()) > reached, min(self.settle, remaining))
        found = ids()
        if webhook_satisfied(found, expected):
            return []
        if self._watch is not None and expected.count != 0:
            self._watch(log.since(self.run_mark), True)
        seen = log.since(since)
        if answer:  # what the answers said is the evidence: the deliveries of that webhook
            seen = [d for d in seen if matches(d, expected, match)]
        return [webhook_failure(expected, match, found, seen, answer)]

    def _wait(self, log: WebhookLog, predicate: Callable[[], bool], timeout: float) -> bool:
        """``log.wait_until``, looking at the webhook route every WATCH_SLICE meanwhile."""
        if self._watch is None:
            return log.wait_until(predicate, timeout)
        end = self.clock.monotonic() + timeout
        while True:
            self._watch(log.since(self.run_mark), False)
            left = end - self.clock.monotonic()
            if log.wait_until(predicate, min(WATCH_SLICE, max(left, 0.0))) or left <= 0:
                self._watch(log.since(self.run_mark), False)
                return predicate()

    # ---------------------------------------------------------------- state and agreement
    def _state(
        self, run: ScenarioState, check: StateCheck, deadline: float, record: StepRecord
    ) -> list[ev.Failure]:
        expected = self._sub(check.expect, run)
        who = f"{check.call.actor} {check.call.operation}"
        last: list[CallResult] = []

        def attempt() -> list[ev.Failure]:
            reply = self._send(run, check.call, "state")
            last[:] = [reply]
            request, response = reply.exchange.request, reply.exchange.response
            failure = status_failure(
                check.call.operation, reply.exchange.status, check.status, request, response
            )
            if failure is not None:
                return [
                    replace(
                        failure, check="state", message=f"{check.call.actor}: {failure.message}"
                    )
                ]
            return pointer_failures(reply.body, expected, "state", f"{who}: ", request, response)

        failures, reads = self._poll(attempt, deadline)
        record.exchanges += [reply.exchange for reply in last]
        return [_after(f, reads, check.within) for f in failures]

    def _agree(
        self, run: ScenarioState, agreement: Agreement, deadline: float, record: StepRecord
    ) -> list[ev.Failure]:
        last: list[CallResult] = []

        def attempt() -> list[ev.Failure]:
            buyer = self._send(run, agreement.buyer, "agree")
            producer = self._send(run, agreement.producer, "agree")
            last[:] = [buyer, producer]
            return self._compare_sides(agreement, buyer, producer)

        failures, reads = self._poll(attempt, deadline)
        record.exchanges += [reply.exchange for reply in last]
        return [_after(f, reads, agreement.within) for f in failures]

    def _compare_sides(
        self, agreement: Agreement, buyer: CallResult, producer: CallResult
    ) -> list[ev.Failure]:
        unread = status_failure(
            agreement.buyer.operation, buyer.exchange.status, (), buyer.exchange.request
        )
        if unread is not None:
            return [replace(unread, check="agree", message=f"buyer: {unread.message}")]
        producer_status = producer.exchange.status
        if producer_status != 404:
            unread = status_failure(
                agreement.producer.operation, producer_status, (), producer.exchange.request
            )
            if unread is not None:
                return [replace(unread, check="agree", message=f"producer: {unread.message}")]
        buyer_value = resolve_pointer(buyer.body, agreement.buyer_at)
        producer_value = (
            MISSING
            if producer_status == 404
            else resolve_pointer(producer.body, agreement.producer_at)
        )
        failure = agreement_failure(
            agreement.entity, buyer_value, producer_value, self.status_mapping
        )
        return [failure] if failure is not None else []

    def _poll(
        self, attempt: Callable[[], list[ev.Failure]], deadline: float
    ) -> tuple[list[ev.Failure], int]:
        interval, reads = self.poll_interval, 0
        while True:
            failures = attempt()
            reads += 1
            remaining = deadline - self.clock.monotonic()
            if not failures or remaining <= 0 or self._stopping.is_set():
                return failures, reads
            self._pause(min(interval, remaining))
            interval = min(interval * 2, MAX_POLL_INTERVAL)

    # ---------------------------------------------------------------- helpers
    def _send(self, run: ScenarioState, call: Call, purpose: str) -> CallResult:
        target = Target(
            call.operation,
            call.actor,
            run.scenario.producer_alias(call.actor),
            self._sub(call.path, run),
            self._sub(call.query, run),
            self._sub(call.body, run),
            purpose,
        )
        return self._caller.send(target)

    def _sub(self, value: Any, run: ScenarioState) -> Any:
        try:
            return substitute(value, run.variables, self.clock.now())
        except UnknownVariableError as exc:
            raise StepAborted(ev.Failure("variable", str(exc), None, exc.known)) from None

    def _tap(self, check: str, what: str) -> TapControl:
        if self.parties.tap is None:
            message = (
                f"{what} needs the webhook tap between the buyer and the producer: none is set"
            )
            raise StepAborted(ev.Failure(check, message))
        return self.parties.tap

    def mark(self) -> int:
        """The tap log's current position (0 without a tap)."""
        return self.parties.tap.log.mark() if self.parties.tap is not None else 0

    def _log_since(self, mark: int) -> list[Delivery]:
        return self.parties.tap.log.since(mark) if self.parties.tap is not None else []

    def result(
        self,
        run: ScenarioState,
        step: Step,
        outcome: ev.Outcome,
        duration: float,
        record: StepRecord,
        seen: tuple[ev.WebhookSeen, ...],
    ) -> ev.StepResult:
        """The result of ``step`` as the events carry it."""
        return ev.StepResult(
            scenario=run.scenario.name,
            slug=run.scenario.slug,
            step_id=step.id,
            title=step.title,
            kind=step.kind,
            actor=step.actor,
            line=step.line,
            outcome=outcome,
            duration=round(duration, 3),
            failures=tuple(record.failures),
            exchanges=tuple(record.exchanges),
            webhooks=seen,
            note=record.note or _note(step),
        )


NETWORK_NOTES = {
    NetworkFault.DELIVER: "the network delivers every webhook again",
    NetworkFault.RECEIVER_DOWN: "the network refuses every webhook: the tap answers 503",
    NetworkFault.DROP: "the network loses every webhook on the way: the buyer sees 502",
    NetworkFault.DELAY: "the network holds every webhook back: the buyer sees 504",
    NetworkFault.DUPLICATE: "the network delivers every webhook and keeps a copy to send again",
    NetworkFault.LOST_ANSWER: "the network loses the producer's answers: the buyer sees 504",
}


def _note(step: Step) -> str:
    if isinstance(step, NetworkStep) and step.fault is not None:
        return NETWORK_NOTES[NetworkFault(step.fault)]
    if not isinstance(step, OutageStep):
        return ""
    if step.down:
        return "the producer portal goes offline: the tap answers 503 and forwards nothing"
    return "the producer portal is back: the tap forwards webhooks again"


def _released(released: list[Delivery], event: str | None) -> str:
    if not released:
        return f"nothing held back{f' of {event}' if event else ''}: nothing forwarded"
    told = ", ".join(f"{d.event} {d.webhook_id}" for d in released)
    copies = "1 held copy" if len(released) == 1 else f"{len(released)} held copies"
    return f"the network forwards {copies} late: {told}"


def _seen(delivery: Delivery) -> ev.WebhookSeen:
    return ev.WebhookSeen(
        event=delivery.event,
        webhook_id=delivery.webhook_id,
        path=delivery.path,
        attempt=delivery.attempt,
        status=delivery.status,
        delivered=delivery.delivered,
        received_at=isoformat(delivery.received_at),
        body=delivery.payload,
        network=delivery.network,
    )


def _after(failure: ev.Failure, reads: int, within: float) -> ev.Failure:
    reads_text = "1 read" if reads == 1 else f"{reads} reads"
    return replace(failure, message=f"{failure.message} (after {reads_text} within {within:g}s)")
