"""A synthetic event stream, as the runner would emit it: two scenarios, the first failing at its
third step (the fourth is skipped), the second with an outage and a retried webhook."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from lotflow.engine import events as ev
from lotflow.reporters import Reporter

HAPPY = "Counter-offer accepted; the contract carries the counter terms"
OUTAGE = "Producer portal down while the buyer accepts"


def exchange(
    operation: str,
    status: int | None,
    *,
    actor: str = "buyer",
    portal: str = "buyer",
    purpose: str = "call",
    body: object = None,
) -> ev.Exchange:
    host = "http://buyer.test" if portal == "buyer" else "http://producer.test"
    request = ev.HttpRequest(
        "POST", f"{host}/api/{operation}", {"authorization": "[redacted]"}, {"q": 1}
    )
    response = (
        ev.HttpResponse(status, {"content-type": "application/json"}, body) if status else None
    )
    return ev.Exchange(
        portal=portal,
        operation=operation,
        actor=actor,
        purpose=purpose,
        request=request,
        response=response,
        duration_ms=12.5,
    )


def webhook(event: str, attempt: int, status: int | None) -> ev.WebhookSeen:
    delivered = status is not None and status < 300
    return ev.WebhookSeen(
        event=event,
        webhook_id="msg_1",
        path="/api/webhooks/bids",
        attempt=attempt,
        status=status,
        delivered=delivered,
        received_at="2026-01-01T00:00:01.000Z",
    )


def step(
    scenario: str,
    slug: str,
    step_id: str,
    title: str,
    outcome: ev.Outcome,
    *,
    kind: str = "call",
    actor: str = "buyer",
    line: int = 5,
    exchanges: tuple[ev.Exchange, ...] = (),
    webhooks: tuple[ev.WebhookSeen, ...] = (),
    failures: tuple[ev.Failure, ...] = (),
    note: str = "",
) -> ev.StepResult:
    return ev.StepResult(
        scenario=scenario,
        slug=slug,
        step_id=step_id,
        title=title,
        kind=kind,
        actor=actor,
        line=line,
        outcome=outcome,
        duration=0.25,
        failures=failures,
        exchanges=exchanges,
        webhooks=webhooks,
        note=note,
    )


CONTRACT = {
    "_id": "c1",
    "contractNumber": "NA-2026-0042",
    "status": "draft",
    "volume": {"amount": 250000, "unit": "gallons"},
    "pricing": {"price": 1600000, "currency": "USD", "pricePerUnit": 6.4, "paymentTerms": "Net 30"},
    "deliveryDate": "2027-03-15T00:00:00Z",
    "deliveryLocation": "Rotterdam, NL",
}


def final(
    portal: str,
    entity: str,
    entity_id: str,
    status: str | None,
    *,
    answered: int = 200,
    reason: str = "",
    shown: object = None,
    actor: str = "buyer",
    operation: str = "",
) -> ev.FinalRead:
    """An entity read again at the end of its scenario, as the runner records it."""
    body = {entity: shown or {"_id": entity_id, "status": status}} if status else None
    read = exchange(operation or f"get-{entity}", answered, actor=actor, portal=portal, body=body)
    return ev.FinalRead(
        portal=portal,
        entity=entity,
        entity_id=entity_id,
        actor=actor,
        exchange=replace(read, purpose="final"),
        status=status,
        reason=reason,
        shown=(body or {}).get(entity),
    )


COUNTER_FAILURE = ev.Failure(
    "status",
    "counterBid answered 409, expected 201",
    "201",
    {"code": "illegal_transition"},
    ev.HttpRequest("POST", "http://buyer.test/api/bids/b1/counter", {}, {"pricePerUnit": 6.4}),
    ev.HttpResponse(409, {}, {"code": "illegal_transition"}),
)
FIRST = (
    step(
        HAPPY,
        "02-counter",
        "create-lot",
        "The buyer drafts a lot at $6.50/gal",
        "passed",
        line=7,
        exchanges=(exchange("createLot", 201),),
    ),
    step(
        HAPPY,
        "02-counter",
        "publish-lot",
        "The buyer publishes the lot",
        "passed",
        line=20,
        exchanges=(
            exchange("publishLot", 200),
            exchange(
                "getMarketplaceLot",
                200,
                actor="producer",
                portal="producer",
                purpose="state",
                body={"lot": {"_id": "l1", "status": "open"}},
            ),
        ),
        webhooks=(
            ev.WebhookSeen(
                event="lot.published",
                webhook_id="msg_0",
                path="/api/webhooks/lots",
                attempt=1,
                status=200,
                delivered=True,
            ),
        ),
    ),
    step(
        HAPPY,
        "02-counter",
        "counter-bid",
        "The buyer counters at $6.40/gal",
        "failed",
        line=33,
        exchanges=(exchange("counterBid", 409, body={"code": "illegal_transition"}),),
        failures=(COUNTER_FAILURE,),
    ),
    step(
        HAPPY,
        "02-counter",
        "accept-counter",
        "The producer accepts the counter-offer",
        "skipped",
        actor="producer",
        line=50,
    ),
)
SECOND = (
    step(
        OUTAGE,
        "07-outage",
        "bid",
        "Producer beta bids",
        "passed",
        actor="producer:beta",
        exchanges=(
            exchange("submitProducerBid", 201, actor="producer:beta", portal="producer"),
            exchange("submitBid", 201, actor="producer", portal="buyer"),
        ),
    ),
    step(
        OUTAGE,
        "07-outage",
        "down",
        "The producer portal goes offline",
        "passed",
        kind="outage",
        actor="lotflow",
        note="the producer portal goes offline: the tap answers 503 and forwards nothing",
    ),
    step(
        OUTAGE,
        "07-outage",
        "accept",
        "The buyer accepts; the webhook is refused",
        "passed",
        exchanges=(
            exchange("decideBid", 200),
            exchange("getContract", 200, purpose="agree", body={"contract": CONTRACT}),
            exchange(
                "getProducerBid",
                200,
                actor="producer",
                portal="producer",
                purpose="agree",
                body={"bid": {"status": "won"}},
            ),
        ),
        webhooks=(webhook("bid.accepted", 1, 503),),
    ),
    step(
        OUTAGE,
        "07-outage",
        "retried",
        "The retry delivers it",
        "passed",
        kind="wait",
        actor="lotflow",
        webhooks=(webhook("bid.accepted", 2, 200), webhook("contract.created", 1, None)),
    ),
)

FIRST_FINAL = (final("producer", "lot", "l1", "open", actor="producer"),)
SECOND_FINAL = (
    final(
        "buyer",
        "lot",
        "l7",
        None,
        answered=404,
        reason="getLot answered 404: Lot l7 not found",
        operation="getLot",
    ),
    final("buyer", "contract", "c1", "draft", shown=CONTRACT),
    final("producer", "bid", "pb1", "won", actor="producer:beta"),
)
"""What each portal showed when read again at the end: the first scenario's producer lot; the
second's buyer lot could not be read (a 404), its contract and the producer's bid could."""

RUN = {"run_id": "r1", "at": "2026-01-01T00:00:00.000Z"}


def scenario_ids(name: str, slug: str) -> dict[str, str]:
    return {**RUN, "scenario": name, "slug": slug}


def finished(
    name: str, slug: str, passed: bool, steps: tuple[ev.StepResult, ...]
) -> ev.ScenarioFinished:
    return ev.ScenarioFinished(**scenario_ids(name, slug), passed=passed, duration=1.0, steps=steps)


def step_events(result: ev.StepResult) -> list[ev.Event]:
    """StepStarted and the event that ends the step, as the runner emits them."""
    ids = {**scenario_ids(result.scenario, result.slug), "step_id": result.step_id}
    if result.skipped:
        return [ev.StepSkipped(**ids, result=result)]
    ended = ev.StepPassed if result.passed else ev.StepFailed
    return [ev.StepStarted(**ids, title=result.title), ended(**ids, result=result)]


STREAM: list[ev.Event] = [
    ev.RunStarted(
        **RUN,
        scenarios=(HAPPY, OUTAGE),
        parties={"buyer": "http://buyer.test", "producer": "http://producer.test"},
        total_steps=8,
    ),
    ev.ScenarioStarted(
        **scenario_ids(HAPPY, "02-counter"),
        description="The buyer counters; the producer accepts.",
        index=1,
        total=2,
        steps=4,
        tags=("core",),
        source="scenarios/02-counter.yaml",
    ),
    *[e for s in FIRST for e in step_events(s)],
    ev.ScenarioFinished(
        **scenario_ids(HAPPY, "02-counter"),
        passed=False,
        duration=1.0,
        steps=FIRST,
        final=FIRST_FINAL,
    ),
    ev.ScenarioStarted(
        **scenario_ids(OUTAGE, "07-outage"),
        index=2,
        total=2,
        steps=4,
        source="scenarios/07-outage.yaml",
    ),
    *[e for s in SECOND for e in step_events(s)],
    ev.ScenarioFinished(
        **scenario_ids(OUTAGE, "07-outage"),
        passed=True,
        duration=1.0,
        steps=SECOND,
        final=SECOND_FINAL,
    ),
    ev.RunFinished(**RUN, summary=ev.RunSummary(1, 1, 6, 1, 1, 2.0)),
]


def feed(reporter: Reporter, events: Iterable[ev.Event] = STREAM) -> None:
    for event in events:
        reporter.handle(event)
    reporter.close()
