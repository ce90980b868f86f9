"""The buyer as webhook sender: which events its changes send, how they are signed, and their
shape. The events owed come from the workflow (``exercise``); the shapes from the ``webhooks:``
of the bundled buyer spec. These checks judge any Standard Webhooks sender the same way: only
the events and the payload schemas are lotflow's."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from lotflow.clock import SystemClock
from lotflow.errors import LotflowError
from lotflow.openapi import resolve, validator_for
from lotflow.signing import WebhookVerifier
from lotflow.verify.checks.exercise import (
    NEEDS_SIGNING_SECRET,
    WEBHOOK_NEEDS,
    Exercised,
    exercise,
    listener_of,
)
from lotflow.verify.listener import Received
from lotflow.verify.registry import Check, Direction
from lotflow.verify.results import Evidence, Severity, SubjectResult, failed, passed
from lotflow.verify.session import VerifySession

__all__ = ["CHECKS", "events_of"]

SIGNED = ("webhook-id", "webhook-timestamp", "webhook-signature")
TOLERANCE = timedelta(minutes=5)


def events_of(session: VerifySession) -> list[str]:
    """The events the buyer spec declares (its ``webhooks:``)."""
    return list(session.spec.get("webhooks", {}))


def _evidence(
    session: VerifySession, expected: str, observed: str, shown: Iterable[Received],
    severity: Severity = Severity.FAILURE,
) -> Evidence:  # fmt: skip
    base = listener_of(session).url
    return Evidence(expected, observed, tuple(r.exchange(base) for r in list(shown)[:5]), severity)


# ---------------------------------------------------------------------------------- events


async def _events(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check, run = "buyer.webhooks.events", await exercise(session)
    delivered = run.deliveries().values()
    observed = Counter((r.event, r.entity_id()) for r in delivered)
    for event in events_of(session):
        wanted = Counter({k: n for k, n in run.expected.items() if k[0] == event})
        got = Counter({k: n for k, n in observed.items() if k[0] == event})
        missing, extra = wanted - got, got - wanted
        if not missing and not extra:
            yield passed(check, event)
            continue
        shown = [r for r in delivered if r.event == event]
        said = [f"missing for {i}" for (_, i) in missing] + [
            f"{n} extra for {i}" for (_, i), n in extra.items()
        ]
        expected = (
            f"{event} exactly once per change the workflow names ({sum(wanted.values())} in "
            f"this run: {', '.join(run.steps)})"
        )
        evidence = _evidence(session, expected, "; ".join(said), shown)
        reads = tuple(run.reads[i] for (_, i) in missing if i in run.reads)
        yield failed(check, event, replace(evidence, exchanges=reads + evidence.exchanges))


# ---------------------------------------------------------------------------------- signatures


async def _signed(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check, run = "buyer.webhooks.signed", await exercise(session)
    verifier = WebhookVerifier(session.webhook_secrets, SystemClock(), TOLERANCE)
    for event in events_of(session):
        attempts = [r for r in run.attempts if r.event == event]
        bad = [(r, _signature_problem(verifier, r)) for r in attempts]
        bad = [(r, why) for r, why in bad if why]
        if not bad:
            yield passed(check, event) if attempts else _none_sent(check, event, session)
            continue
        legacy = all("authorization" in r.headers for r, _ in bad)
        severity = Severity.DEVIATION if legacy else Severity.FAILURE
        observed = bad[0][1] + (
            " (today's static bearer: a deviation and a security finding, the secret travels "
            "with every request)"
            if legacy
            else ""
        )
        expected = "Standard Webhooks: webhook-id, webhook-timestamp and a valid v1 signature"
        yield failed(check, event, _evidence(session, expected, observed, [bad[0][0]], severity))


def _signature_problem(verifier: WebhookVerifier, received: Received) -> str:
    missing = [name for name in SIGNED if not received.headers.get(name)]
    if missing:
        return f"attempt {received.webhook_id or '?'} has no {', '.join(missing)}"
    try:
        verifier.verify(received.headers, received.body)
    except LotflowError as exc:
        return f"attempt {received.webhook_id}: {exc}"
    return ""


def _none_sent(check: str, event: str, session: VerifySession) -> SubjectResult:
    from lotflow.verify.results import not_run

    return not_run(
        check, event, f"the buyer sent no {event} in this run", "see buyer.webhooks.events"
    )


# ---------------------------------------------------------------------------------- payloads


async def _payloads(session: VerifySession) -> AsyncIterator[SubjectResult]:
    check, run = "buyer.webhooks.payloads", await exercise(session)
    deliveries = list(run.deliveries().values())
    for event in events_of(session):
        sent = [r for r in deliveries if r.event == event]
        problems = [(r, p) for r in sent for p in _shape_problems(session, event, r)]
        problems += _version_problems(run, event)
        if problems:
            expected = f"each {event} as the buyer spec's webhooks.{event} says; versions increase"
            observed = "; ".join(p for _, p in problems[:4])
            yield failed(check, event, _evidence(session, expected, observed, [problems[0][0]]))
        elif sent:
            yield passed(check, event)
        else:
            yield _none_sent(check, event, session)


def _shape_problems(session: VerifySession, event: str, received: Received) -> list[str]:
    operation = session.spec["webhooks"][event]["post"]
    found = []
    if received.path != operation.get("x-lotflow-delivery-path", received.path):
        found.append(f"sent to {received.path}, not {operation['x-lotflow-delivery-path']}")
    for parameter in operation.get("parameters", []):
        value = received.headers.get(parameter["name"].lower())
        if value is None:
            if parameter.get("required"):
                found.append(f"no {parameter['name']} header")
            continue
        schema = resolve(session.spec, parameter.get("schema", {}))
        found += [f"header {parameter['name']}: {e}" for e in _errors(session, schema, value)]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    body = received.payload
    found += [f"body: {e}" for e in _errors(session, schema, body)]
    if isinstance(body, dict) and body.get("eventId") != received.webhook_id:
        found.append(f"eventId {body.get('eventId')!r} is not the webhook-id")
    return found


def _errors(session: VerifySession, schema: dict[str, Any], value: Any) -> list[str]:
    errors = validator_for(session.spec, schema).errors(value)
    return [f"{getattr(e, 'field', '')} {getattr(e, 'message', e)}"[:200] for e in errors][:3]


def _version_problems(run: Exercised, event: str) -> list[tuple[Received, str]]:
    """Two different events about one entity carrying the same version."""
    seen: dict[tuple[str, Any], Received] = {}
    found = []
    for received in run.deliveries().values():
        body = received.payload
        entity = body.get(received.event.partition(".")[0]) if isinstance(body, dict) else None
        if not isinstance(entity, dict):
            continue
        key = (received.entity_id(), entity.get("version"))
        earlier = seen.setdefault(key, received)
        if earlier is not received and event in (earlier.event, received.event):
            found.append(
                (received, f"{earlier.event} and {received.event} about {key[0]} both carry "
                 f"version {key[1]}: versions must increase with each change")
            )  # fmt: skip
    return found


DIRECTION = Direction.BUYER_WEBHOOKS
CHECKS = [
    Check(
        "buyer.webhooks.events",
        "each state change sends exactly the events the workflow names for its moves, once, "
        "and no other (a run of changes through the operator and producer APIs)",
        DIRECTION, _events, events_of, WEBHOOK_NEEDS,
    ),
    Check(
        "buyer.webhooks.signed",
        "every attempt carries webhook-id, webhook-timestamp and a v1 signature that verifies "
        "with the secret (today's static bearer is a deviation and a security finding)",
        DIRECTION, _signed, events_of, (*WEBHOOK_NEEDS, NEEDS_SIGNING_SECRET),
    ),
    Check(
        "buyer.webhooks.payloads",
        "every delivery goes to the spec's receiver path with headers and body valid against "
        "the spec's webhooks: schemas (ids plain strings, eventId the webhook-id), and each "
        "change of an entity carries a new version",
        DIRECTION, _payloads, events_of, WEBHOOK_NEEDS,
    ),
]  # fmt: skip
