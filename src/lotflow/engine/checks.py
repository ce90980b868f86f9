"""The checks a step makes, as pure functions from what was observed to :class:`Failure` records.

Nothing here does I/O: the runner fetches, waits and polls, then asks these functions whether
what it saw is what the scenario says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from lotflow.engine.events import Failure, HttpRequest, HttpResponse
from lotflow.engine.model import WebhookExpectation
from lotflow.engine.pointers import MISSING, resolve_pointer, same_json, show
from lotflow.engine.tap import Delivery


class StepAborted(Exception):  # noqa: N818 - a control-flow signal inside the runner, not an error
    """Ends a step at once with one failure (transport, unknown variable, missing tap...)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class ConfigurationStop(Exception):  # noqa: N818 - a control-flow signal, turned into an event
    """Ends the whole run: the parties are set up so that no step can be judged (exit 2).

    ``setting`` names what to change (an option or a portal's environment variable).
    """

    def __init__(self, message: str, setting: str) -> None:
        super().__init__(message)
        self.message = message
        self.setting = setting


def status_failure(
    operation: str,
    status: int | None,
    expected: tuple[int, ...],
    request: HttpRequest | None = None,
    response: HttpResponse | None = None,
) -> Failure | None:
    """A failure when ``status`` is not one of ``expected`` (nothing expected: any 2xx)."""
    if expected and status in expected:
        return None
    if not expected and status is not None and 200 <= status < 300:
        return None
    wanted = " or ".join(map(str, expected)) if expected else "2xx"
    message = f"{operation} answered {status}, expected {wanted}"
    observed = response.body if response is not None else None
    return Failure("status", message, wanted, observed, request, response)


def pointer_failures(
    document: Any,
    expected: Mapping[str, Any],
    check: str,
    prefix: str = "",
    request: HttpRequest | None = None,
    response: HttpResponse | None = None,
) -> list[Failure]:
    """One failure per pointer of ``expected`` whose value in ``document`` differs."""
    failures = []
    for pointer, value in expected.items():
        actual = resolve_pointer(document, pointer)
        if actual is not MISSING and same_json(actual, value):
            continue
        message = f"{prefix}{pointer or '(whole body)'} is {show(actual)}, expected {show(value)}"
        observed = None if actual is MISSING else actual
        failures.append(Failure(check, message, value, observed, request, response))
    return failures


def matches(
    delivery: Delivery,
    expected: WebhookExpectation,
    match: Mapping[str, Any],
    answer: Mapping[str, Any] | None = None,
) -> bool:
    """The delivery is of the expected event, its body holds every ``match`` value and the
    producer's answer every ``answer`` value."""
    if delivery.event != expected.event or pointer_failures(delivery.payload, match, "webhook"):
        return False
    return not answer or not pointer_failures(_answer(delivery), answer, "webhook")


def _answer(delivery: Delivery) -> Any:
    try:
        return json.loads(delivery.answer or b"null")
    except ValueError:
        return None


def counted(deliveries: Iterable[Delivery], expected: WebhookExpectation) -> set[str]:
    """The distinct webhook-ids among ``deliveries`` with the expected outcome."""
    return {d.webhook_id for d in deliveries if d.delivered == expected.delivered}


def webhook_satisfied(ids: set[str], expected: WebhookExpectation) -> bool:
    """Whether the webhook-ids seen so far meet the expectation's count."""
    if expected.count is None:
        return bool(ids)
    return len(ids) == expected.count


def webhook_failure(
    expected: WebhookExpectation,
    match: Mapping[str, Any],
    ids: set[str],
    seen: list[Delivery],
    answer: Mapping[str, Any] | None = None,
) -> Failure:
    """The failure for an expectation that did not come true: what was wanted, what arrived."""
    outcome = "delivered (2xx)" if expected.delivered else "attempted and refused"
    wanted = f"exactly {expected.count}" if expected.count is not None else "at least 1"
    where = f" matching {show(match)}" if match else ""
    where += f" answered {show(answer)}" if answer else ""
    message = (
        f"{expected.event}{where}: expected {wanted} {outcome} within {expected.within:g}s, "
        f"saw {len(ids)}"
    )
    observed = [describe_delivery(d, answer) for d in seen] or ["no webhook reached the tap"]
    wanted_doc = {"event": expected.event, "match": match} | ({"answer": answer} if answer else {})
    return Failure("webhook", message, wanted_doc, observed)


def describe_delivery(delivery: Delivery, answer: Mapping[str, Any] | None = None) -> str:
    """``bid.accepted msg_1 attempt 2 → 200`` (or ``→ no answer``), with what the answer holds
    at the pointers of ``answer`` (``→ 200 /duplicate false``) and what the network did."""
    said = "no answer" if delivery.status is None else str(delivery.status)
    body = _answer(delivery)
    for pointer in answer or {}:
        said += f" {pointer} {show(resolve_pointer(body, pointer))}"
    network = f" ({delivery.network})" if delivery.network else ""
    return f"{delivery.event} {delivery.webhook_id} attempt {delivery.attempt}{network} → {said}"


def agreement_failure(
    entity: str,
    buyer_value: Any,
    producer_value: Any,
    mapping: Mapping[str, Mapping[str, str | None]],
) -> Failure | None:
    """Whether the producer's status is the buyer's status mapped for ``entity``.

    A buyer status that maps to None (e.g. a draft lot) means the producer must not show the
    entity at all; an entity without a mapping compares the statuses as they are.
    """
    table = mapping.get(entity)
    if table is not None and isinstance(buyer_value, str) and buyer_value not in table:
        message = (
            f"the status mapping has no {entity} status {buyer_value!r} (known: {', '.join(table)})"
        )
        return Failure("agree", message, None, buyer_value)
    wanted = (
        table.get(buyer_value)
        if table is not None and isinstance(buyer_value, str)
        else buyer_value
    )
    if buyer_value is not MISSING and (
        same_json(wanted, producer_value) or (wanted is None and producer_value is MISSING)
    ):
        return None
    message = (
        f"the {entity} disagrees: buyer says {show(buyer_value)} "
        f"(→ {show(wanted) if wanted is not None else 'not shown'} for the producer), "
        f"producer says {show(producer_value)}"
    )
    observed = None if producer_value is MISSING else producer_value
    return Failure("agree", message, None if wanted is MISSING else wanted, observed)
