"""The plain-language phrases every reporter shares, so a step reads the same everywhere."""

from __future__ import annotations

import json
from typing import Any

from lotflow.engine import events as ev
from lotflow.reporters.vocabulary import Vocabulary

MARKS = {"passed": "✓", "failed": "✗", "skipped": "-"}
SKIPPED_NOTE = "skipped: an earlier step failed"


def short(value: Any, limit: int = 300) -> str:
    """A JSON value on one line, cut at ``limit`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def actor_label(actor: str) -> str:
    """``buyer`` → ``the buyer``, ``producer:beta`` → ``producer beta``."""
    if actor == "buyer":
        return "the buyer"
    if actor.startswith("producer:"):
        return f"producer {actor.partition(':')[2]}"
    return "the producer" if actor == "producer" else actor


NETWORK_WORDS = {
    "refused": "refused by the network",
    "dropped": "lost on the way",
    "held": "held back by the network",
    "duplicated": "the network keeps a copy",
    "answer lost": "its answer lost on the way back",
    "released": "a held-back copy, late",
}
"""What a network step's fault did to a delivery (``WebhookSeen.network``), in words."""


def webhook_line(webhook: ev.WebhookSeen) -> str:
    """``→ producer received lot.published (attempt 2)``, or why it was not delivered."""
    network = f", {NETWORK_WORDS.get(webhook.network, webhook.network)}" if webhook.network else ""
    if webhook.delivered:
        return f"→ producer received {webhook.event} (attempt {webhook.attempt}{network})"
    answer = "no answer" if webhook.status is None else f"producer answered {webhook.status}"
    if webhook.status == 401:
        answer += ", refusing the signature (do the webhook secrets match?)"
    return f"→ {webhook.event} not delivered: {answer} (attempt {webhook.attempt}{network})"


def told_line(webhook: ev.WebhookSeen, words: Vocabulary) -> str:
    """``→ the producer portal is told: A lot is open for bids`` (the spec's words), or why not."""
    said = words.event(webhook.event)
    network = NETWORK_WORDS.get(webhook.network, webhook.network)
    if webhook.delivered:
        again = [network] if network else ["on a retry"] if webhook.attempt > 1 else []
        shown = f" ({again[0]})" if again else ""
        return f"→ the producer portal is told{shown}: {said}"
    answer = network or ("no answer" if webhook.status is None else f"it answered {webhook.status}")
    return f"→ not delivered to the producer portal ({answer}): {said}"


def call_line(exchange: ev.Exchange) -> str:
    """``publishLot → 200`` (``no answer`` when the portal could not be reached)."""
    status = exchange.status if exchange.status is not None else "no answer"
    return f"{exchange.operation} → {status}"


def main_call(result: ev.StepResult) -> ev.Exchange | None:
    """The exchange a call step is about (its own call, not its checks)."""
    return next((x for x in result.exchanges if x.purpose == "call"), None)


def failure_details(failure: ev.Failure, *, verbose: bool = False, limit: int = 300) -> list[str]:
    """Expected vs observed (and, when verbose, the request and response) of one failure."""
    lines = []
    if failure.expected is not None:
        lines.append(f"expected: {short(failure.expected, limit)}")
    if failure.observed is not None:
        lines.append(f"observed: {short(failure.observed, limit)}")
    elif failure.expected is not None:
        lines.append("observed: nothing")
    if verbose and failure.request is not None:
        body = f" {short(failure.request.body, limit)}" if failure.request.body is not None else ""
        lines.append(f"request: {failure.request.method} {failure.request.url}{body}")
    if failure.response is not None and (verbose or failure.observed is None):
        lines.append(f"response: {failure.response.status} {short(failure.response.body, limit)}")
    return lines


def summary_line(summary: ev.RunSummary) -> str:
    """``2 passed, 1 failed (27 steps: 25 passed, 1 failed, 1 skipped) in 8.10s``."""
    return (
        f"{summary.passed} passed, {summary.failed} failed "
        f"({summary.steps} steps: {summary.steps_passed} passed, {summary.steps_failed} failed, "
        f"{summary.steps_skipped} skipped) in {summary.duration:.2f}s"
    )


def first_failure(scenario: ev.ScenarioFinished) -> ev.StepResult | None:
    """The step that failed the scenario, if any."""
    return next((s for s in scenario.steps if s.outcome == "failed"), None)


def ending_line(event: ev.RunEnd) -> str:
    """How the run ended, in one line: the counts, or why it stopped and what finished before."""
    counts = summary_line(event.summary)
    if isinstance(event, ev.RunInterrupted):
        where = f" during {event.scenario!r}, step {event.step_id!r}" if event.step_id else ""
        return f"Run {event.reason}{where}; before that: {counts}"
    if isinstance(event, ev.RunErrored):
        what = "a configuration error" if event.kind == "configuration" else "an internal error"
        return f"Run stopped by {what}: {event.message}; before that: {counts}"
    return counts
