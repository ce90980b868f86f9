"""Run scenarios between two parties reachable over HTTP, and emit results as events.

The runner knows the parties only by URL and credentials, so a reference portal, a simulator or a
real portal are interchangeable. Webhooks are observed through the tap; state is checked on both
sides by polling the portals' own APIs until a deadline.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from lotflow.clock import Clock, SystemClock
from lotflow.engine import events as ev
from lotflow.engine.model import Agreement, Request, Scenario, StateCheck, Step, WebhookExpectation
from lotflow.engine.tap import WebhookTap
from lotflow.engine.variables import MISSING, UnknownVariableError, pointer_get, substitute
from lotflow.openapi import operations


@dataclass(frozen=True)
class OperationRef:
    portal: str
    method: str
    path: str
    security: tuple[str, ...]


def operation_index(specs: Mapping[str, dict[str, Any]]) -> dict[str, OperationRef]:
    """operationId → where and how to call it, for every operation of the given portal specs."""
    return {
        op_id: OperationRef(
            portal, op.method.upper(), op.path, tuple(name for alt in op.security for name in alt)
        )
        for portal, spec in specs.items()
        for op_id, op in operations(spec).items()
    }


@dataclass
class Parties:
    """The two parties under test, their credentials, and the tap between them."""

    buyer_url: str
    producer_url: str
    buyer_token: str
    buyer_api_key: str
    producer_tokens: Mapping[str, str]
    tap: WebhookTap | None = None

    def describe(self) -> dict[str, str]:
        return {
            "buyer": self.buyer_url,
            "producer": self.producer_url,
            "tap": "on" if self.tap else "off",
        }


class StepError(Exception):
    """A check inside a step that ends it at once (transport, unknown variable)."""

    def __init__(self, failure: ev.Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass
class _StepRun:
    """The mutable record of one step while it runs."""

    failures: list[ev.Failure] = field(default_factory=list)
    exchanges: list[ev.Exchange] = field(default_factory=list)


class Runner:
    """Runs scenarios; iterate :meth:`run` and hand each event to reporters."""

    def __init__(
        self,
        parties: Parties,
        operations: Mapping[str, OperationRef],
        status_mapping: Mapping[str, Mapping[str, str | None]],
        *,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        poll_interval: float = 0.05,
        run_id: str | None = None,
    ) -> None:
        self.parties = parties
        self.operations = operations
        self.mapping = status_mapping
        self.clock = clock or SystemClock()
        self.http = httpx.Client(timeout=15, transport=transport)
        self.poll_interval = poll_interval
        self.run_id = run_id or secrets.token_hex(4)
        self._pause = threading.Event()

    def run(self, scenarios: Iterable[Scenario]) -> Iterator[ev.Event]:
        scenarios = list(scenarios)
        start = self.clock.monotonic()
        yield ev.RunStarted(
            tuple(s.name for s in scenarios),
            self.parties.describe(),
            sum(len(s.steps) for s in scenarios),
        )
        totals = {
            "passed": 0,
            "failed": 0,
            "steps_passed": 0,
            "steps_failed": 0,
            "steps_skipped": 0,
        }
        for index, scenario in enumerate(scenarios, start=1):
            results = yield from self._scenario(scenario, index, len(scenarios))
            ok = all(r.passed for r in results)
            totals["passed" if ok else "failed"] += 1
            for r in results:
                totals[
                    "steps_skipped" if r.skipped else "steps_passed" if r.passed else "steps_failed"
                ] += 1
        yield ev.RunFinished(duration=round(self.clock.monotonic() - start, 3), **totals)

    def close(self) -> None:
        self.http.close()

    # ---------------------------------------------------------------- scenarios and steps
    def _scenario(
        self, scenario: Scenario, index: int, total: int
    ) -> Generator[ev.Event, None, list[ev.StepResult]]:
        yield ev.ScenarioStarted(scenario.name, scenario.slug, scenario.description, index, total)
        start, variables = self.clock.monotonic(), {"run_id": f"{self.run_id}-{scenario.slug[:2]}"}
        scenario_mark = self.parties.tap.log.mark() if self.parties.tap else 0
        results: list[ev.StepResult] = []
        for step in scenario.steps:
            if results and not results[-1].passed:
                result = self._result(scenario, step, 0.0, _StepRun(), 0, skipped=True)
                yield ev.StepSkipped(result)
            else:
                yield ev.StepStarted(scenario.name, step.id, step.title)
                result = self._step(scenario, step, variables, scenario_mark)
                yield ev.StepPassed(result) if result.passed else ev.StepFailed(result)
            results.append(result)
        if self.parties.tap:
            self.parties.tap.down = False
        yield ev.ScenarioFinished(
            scenario.name,
            scenario.slug,
            all(r.passed for r in results),
            round(self.clock.monotonic() - start, 3),
            tuple(results),
        )
        return results

    def _step(
        self, scenario: Scenario, step: Step, variables: dict[str, Any], scenario_mark: int
    ) -> ev.StepResult:
        started, run = self.clock.monotonic(), _StepRun()
        mark = self.parties.tap.log.mark() if self.parties.tap else 0
        try:
            if step.outage is not None:
                self._outage(step.outage)
            if step.request is not None:
                self._call_step(scenario, step, variables, run)
            if not run.failures:
                since = mark if step.request else scenario_mark
                run.failures += self._webhooks(step.webhooks, since, variables)
                run.failures += [
                    f for check in step.state for f in self._state(scenario, check, variables, run)
                ]
                run.failures += [
                    f
                    for agreement in step.agree
                    for f in self._agree(scenario, agreement, variables, run)
                ]
        except StepError as exc:
            run.failures.append(exc.failure)
        return self._result(scenario, step, self.clock.monotonic() - started, run, mark)

    def _result(
        self,
        scenario: Scenario,
        step: Step,
        duration: float,
        run: _StepRun,
        mark: int,
        *,
        skipped: bool = False,
    ) -> ev.StepResult:
        seen = tuple(self.parties.tap.log.since(mark)) if self.parties.tap and not skipped else ()
        actor = (
            step.request.actor if step.request else ("lotflow" if step.outage is not None else "—")
        )
        return ev.StepResult(
            scenario.name,
            scenario.slug,
            step.id,
            step.title,
            actor,
            "skipped" if skipped else step.kind,
            round(duration, 3),
            tuple(run.failures),
            tuple(run.exchanges),
            seen,
            skipped,
        )

    def _outage(self, down: bool) -> None:
        if self.parties.tap is None:
            raise StepError(
                ev.Failure(
                    "outage", "An outage step needs the webhook tap between buyer and producer."
                )
            )
        self.parties.tap.down = down

    def _call_step(
        self, scenario: Scenario, step: Step, variables: dict[str, Any], run: _StepRun
    ) -> None:
        assert step.request is not None
        exchange = self._call(scenario, step.request, variables)
        run.exchanges.append(exchange)
        expected = step.expect_status
        if (
            (exchange.status not in expected)
            if expected
            else not (exchange.status and 200 <= exchange.status < 300)
        ):
            wanted = " or ".join(map(str, expected)) if expected else "2xx"
            run.failures.append(
                ev.Failure(
                    "status",
                    f"{step.request.operation} answered {exchange.status}, expected {wanted}",
                    wanted,
                    exchange.response_body,
                )
            )
            return
        run.failures += _compare(
            exchange.response_body, self._sub(step.expect_body, variables), "body"
        )
        for name, pointer in step.save.items():
            value = pointer_get(exchange.response_body, pointer)
            if value is MISSING or value is None:
                run.failures.append(
                    ev.Failure(
                        "save",
                        f"cannot save {name}: the response has no value at {pointer}",
                        pointer,
                        exchange.response_body,
                    )
                )
            else:
                variables[name] = value

    # ---------------------------------------------------------------- checks
    def _webhooks(
        self, expectations: tuple[WebhookExpectation, ...], mark: int, variables: dict[str, Any]
    ) -> list[ev.Failure]:
        if expectations and self.parties.tap is None:
            return [
                ev.Failure(
                    "webhook",
                    "Webhook expectations need the webhook tap between buyer and producer.",
                )
            ]
        return [f for w in expectations if (f := self._webhook(w, mark, variables))]

    def _webhook(
        self, expected: WebhookExpectation, mark: int, variables: dict[str, Any]
    ) -> ev.Failure | None:
        assert self.parties.tap is not None
        log, match = self.parties.tap.log, self._sub(expected.match, variables)

        def matching() -> list[ev.WebhookSeen]:
            return [
                w
                for w in log.since(mark)
                if w.event == expected.event and not _compare(w.body, match, "webhook")
            ]

        def satisfied() -> bool:
            seen = matching()
            wanted = any(w.delivered == expected.delivered for w in seen)
            return wanted and (
                expected.count is None or len({w.webhook_id for w in seen}) == expected.count
            )

        if log.wait_until(satisfied, expected.within):
            return None
        seen = matching()
        state = "delivered" if expected.delivered else "attempted and refused"
        observed = [
            f"{w.event} {w.webhook_id} attempt {w.attempt} → {w.status}" for w in log.since(mark)
        ]
        count = f" exactly {expected.count} time(s)" if expected.count is not None else ""
        return ev.Failure(
            "webhook",
            f"{expected.event} matching {match} was not {state}{count} within "
            f"{expected.within:g} s ({len(seen)} matching attempt(s) seen)",
            match,
            observed,
        )

    def _state(
        self, scenario: Scenario, check: StateCheck, variables: dict[str, Any], run: _StepRun
    ) -> list[ev.Failure]:
        expected = self._sub(check.expect, variables)
        last: list[ev.Exchange] = []

        def attempt() -> list[ev.Failure]:
            last[:] = [self._call(scenario, check.request, variables)]
            if last[0].status != 200:
                return [
                    ev.Failure(
                        "state",
                        f"{check.request.operation} answered {last[0].status}",
                        200,
                        last[0].response_body,
                    )
                ]
            return _compare(last[0].response_body, expected, f"state ({check.request.actor})")

        failures = self._poll(attempt, check.within)
        run.exchanges += last
        return failures

    def _agree(
        self, scenario: Scenario, agreement: Agreement, variables: dict[str, Any], run: _StepRun
    ) -> list[ev.Failure]:
        last: list[ev.Exchange] = []

        def attempt() -> list[ev.Failure]:
            buyer, producer = (
                self._call(scenario, agreement.buyer, variables),
                self._call(scenario, agreement.producer, variables),
            )
            last[:] = [buyer, producer]
            b, p = (
                pointer_get(buyer.response_body, agreement.buyer_at),
                pointer_get(producer.response_body, agreement.producer_at),
            )
            mapped = self.mapping.get(agreement.entity, {}).get(b, b) if isinstance(b, str) else b
            if b is MISSING or p is MISSING or mapped != p:
                message = (
                    f"the {agreement.entity} disagrees: buyer says {_shown(b)} (→ "
                    f"{_shown(mapped)} for the producer), producer says {_shown(p)}"
                )
                return [
                    ev.Failure(
                        "agree",
                        message,
                        mapped if mapped is not MISSING else None,
                        p if p is not MISSING else None,
                    )
                ]
            return []

        failures = self._poll(attempt, agreement.within)
        run.exchanges += last
        return failures

    def _poll(self, attempt: Callable[[], list[ev.Failure]], within: float) -> list[ev.Failure]:
        deadline = self.clock.monotonic() + within
        while True:
            failures = attempt()
            if not failures or self.clock.monotonic() >= deadline:
                return failures
            self._pause.wait(self.poll_interval)

    # ---------------------------------------------------------------- HTTP
    def _sub(self, value: Any, variables: dict[str, Any]) -> Any:
        try:
            return substitute(value, variables, self.clock.now())
        except UnknownVariableError as exc:
            raise StepError(
                ev.Failure(
                    "variable",
                    f"unknown variable ${{{exc.args[0]}}}: no earlier step saved it",
                    None,
                    sorted(variables),
                )
            ) from None

    def _call(self, scenario: Scenario, request: Request, variables: dict[str, Any]) -> ev.Exchange:
        ref = self.operations[request.operation]
        path = ref.path.format(**{k: str(v) for k, v in self._sub(request.path, variables).items()})
        base = self.parties.buyer_url if ref.portal == "buyer" else self.parties.producer_url
        body = self._sub(request.body, variables)
        query = self._sub(request.query, variables)
        headers = self._credentials(scenario, request.actor, ref)
        started = self.clock.monotonic()
        try:
            response = self.http.request(
                ref.method, base + path, params=query or None, json=body, headers=headers
            )
        except httpx.HTTPError as exc:
            raise StepError(
                ev.Failure(
                    "transport",
                    f"the {ref.portal} portal at {base} could not be reached: "
                    f"{type(exc).__name__}: {exc}",
                    base,
                    None,
                )
            ) from None
        return ev.Exchange(
            ref.portal,
            request.operation,
            ref.method,
            base + path,
            body,
            response.status_code,
            _body(response),
            round((self.clock.monotonic() - started) * 1000, 1),
        )

    def _credentials(self, scenario: Scenario, actor: str, ref: OperationRef) -> dict[str, str]:
        if "producerApiKey" in ref.security:
            return {"X-API-Key": self.parties.buyer_api_key}
        if "operatorToken" in ref.security:
            return {"Authorization": f"Bearer {self.parties.buyer_token}"}
        if "producerOperatorToken" in ref.security:
            alias = actor.partition(":")[2] or scenario.producers[0]
            token = self.parties.producer_tokens.get(alias)
            if token is None:
                raise StepError(
                    ev.Failure(
                        "config",
                        f"no producer operator token for alias {alias!r} (known: "
                        f"{sorted(self.parties.producer_tokens)})",
                    )
                )
            return {"Authorization": f"Bearer {token}"}
        return {}


def _shown(value: Any) -> str:
    return "nothing" if value is MISSING else repr(value)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:2000] or None


def _compare(document: Any, expected: Mapping[str, Any], check: str) -> list[ev.Failure]:
    failures = []
    for pointer, value in expected.items():
        actual = pointer_get(document, pointer)
        if (
            actual is MISSING
            or actual != value
            or isinstance(actual, bool) != isinstance(value, bool)
        ):
            seen = "nothing" if actual is MISSING else repr(actual)
            failures.append(
                ev.Failure(
                    check,
                    f"{pointer} is {seen}, expected {value!r}",
                    value,
                    None if actual is MISSING else actual,
                )
            )
    return failures
