"""The message pact, buyer webhooks → producer portal: one message per webhook event of the spec.

Each message is the event's payload from the spec's examples (the payload schema's example, with
the members the event carries added from their components' examples), the subject entity's status
taken from the workflow (the state the buyer's transition that emits the event leads to), and the
Standard Webhooks headers as metadata. The consumer is the reference producer's own receiver: the
handler signs the message with the producer's secret, delivers it to the event's delivery path and
checks what the producer made of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from pact import Pact, match

from lotflow.ids import new_event_id
from lotflow.openapi import load_portal_spec, resolve, webhooks
from lotflow.pact import states
from lotflow.pact.examples import composed, example, matching, schema_named
from lotflow.pact.names import CONSUMER, MESSAGE_PROVIDER
from lotflow.signing import sign
from lotflow.workflow import load_workflow
from tests.contracts.producer_side import SECRET, ProducerUnderTest, producer, stub_buyer

SPEC = load_portal_spec("buyer")
EVENTS = tuple(webhooks(SPEC))

# The operation that makes the buyer send each event (a provider state of the message pact).
CAUSES = {
    "lot.published": states.LOT_JUST_PUBLISHED,
    "lot.updated": states.LOT_JUST_UPDATED,
    "lot.deleted": states.LOT_JUST_WITHDRAWN,
    "bid.accepted": states.BID_JUST_ACCEPTED,
    "bid.rejected": states.BID_JUST_REJECTED,
    "bid.counter_offer": states.BID_JUST_COUNTERED,
    "contract.created": states.BID_JUST_ACCEPTED,
}
# The event sent with it, whose entity the payload embeds in that event's state (the workflow
# creates a contract in the transaction that accepts its bid).
SENT_WITH = {"contract.created": ("bid.accepted",)}
# What an event carries beyond its payload schema's example (the schema's description says so).
CARRIES = {"bid.accepted": ("contract",), "bid.rejected": ("reason",)}


def description(event: str) -> str:
    return f"a {event} webhook"


def _operation(event: str) -> dict[str, Any]:
    post: dict[str, Any] = resolve(SPEC, webhooks(SPEC)[event])["post"]
    return post


def payload_schema(event: str) -> str:
    body = resolve(SPEC, _operation(event)["requestBody"])
    ref: str = body["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def delivery_path(event: str) -> str:
    return str(_operation(event)["x-lotflow-delivery-path"])


def subject(event: str) -> str:
    return event.split(".", 1)[0]


def status_after(event: str) -> str:
    """The status the buyer's transition that emits ``event`` leads its entity to."""
    machine = load_workflow().machine(f"buyer.{subject(event)}")
    return next(t.target for t in machine.transitions if event in t.emits)


def message_body(event: str) -> dict[str, Any]:
    name = payload_schema(event)
    carried = CARRIES.get(event, ())
    body = composed(SPEC, name, *(m for m in carried if m != "reason"), event=event)
    if "reason" in carried:
        body["reason"] = example(SPEC, "BidDecision", 1)["reason"]
    if event != "bid.counter_offer":
        body.pop("counterOffer", None)
    for sent in (event, *SENT_WITH.get(event, ())):
        body[subject(sent)] |= {"status": status_after(sent)}
    entity = subject(event)
    if entity == "bid" or event == "contract.created":
        body["bid"] |= {"version": body["bid"]["version"] + 1}  # a change after the submission
    return body


def _header_schema(event: str, name: str) -> dict[str, Any]:
    for parameter in _operation(event)["parameters"]:
        parameter = resolve(SPEC, parameter)
        if parameter["name"] == name:
            found: dict[str, Any] = resolve(SPEC, parameter["schema"])
            return found | {"example": parameter.get("example")}
    raise KeyError(name)


def metadata(event: str, body: dict[str, Any]) -> dict[str, Any]:
    """The signature headers, matched by the spec's patterns (examples: a real signature of the
    example body with the tests' secret)."""
    stamp = _header_schema(event, "webhook-timestamp")
    signature = sign([SECRET], body["eventId"], int(stamp["example"]), json.dumps(body).encode())
    return {
        "webhook-id": match.regex(
            body["eventId"], regex=_header_schema(event, "webhook-id")["pattern"]
        ),
        "webhook-timestamp": match.regex(stamp["example"], regex=stamp["pattern"]),
        "webhook-signature": match.regex(
            signature, regex=_header_schema(event, "webhook-signature")["pattern"]
        ),
    }


def declare(pact: Pact, event: str) -> None:
    body = message_body(event)
    exact = frozenset(
        {"/event", *(f"/{subject(e)}/status" for e in (event, *SENT_WITH.get(event, ())))}
    )
    (
        pact.upon_receiving(description(event), "Async")
        .given(CAUSES[event])
        .with_body(
            matching(SPEC, schema_named(SPEC, payload_schema(event)), body, exact=exact),
            "application/json",
        )
        .with_metadata(metadata(event, body))
    )


# ---------------------------------------------------------------------------- the consumer


def _bid_answer(request: httpx.Request) -> httpx.Response:
    """The buyer stub that takes the producer's bid: the Bid example, stored as pending."""
    assert request.url.path == "/api/bids"
    return httpx.Response(201, json={"bid": example(SPEC, "Bid")})


def _prepare(p: ProducerUnderTest, event: str, body: dict[str, Any]) -> str | None:
    """Put the producer where the event applies; the producer's bid id, for bid events."""
    if event == "lot.deleted":
        earlier = body["lot"] | {"status": "published", "version": body["lot"]["version"] - 1}
        published = example(SPEC, "LotEventPayload") | {"lot": earlier, "eventId": new_event_id()}
        assert p.deliver("/api/webhooks/lots", published).status_code == 200
    if subject(event) in ("bid", "contract"):
        return str(p.bid_with_example_terms()["_id"])
    return None


def _outcome(p: ProducerUnderTest, event: str, body: dict[str, Any], bid_id: str | None) -> Any:
    if subject(event) == "lot":
        return p.marketplace_lot(body["lot"]["_id"])["status"]
    assert bid_id is not None
    return p.my_bid(bid_id)["status"]


def producer_status(event: str) -> str:
    """What the producer's entity becomes, by the workflow's mapping of the buyer's status."""
    workflow = load_workflow()
    if event == "contract.created":
        return str(workflow.producer_status("bid", "accepted"))
    return str(workflow.producer_status(subject(event), status_after(event)))


def handler_for(tmp_path: Path, event: str) -> Any:
    """The consumer: the reference producer's receiver for ``event``, checked by its effect."""

    def handle(contents: Any, meta: dict[str, Any]) -> None:
        body = json.loads(str(contents))
        p = producer(tmp_path, "http://buyer.test", stub_buyer(_bid_answer))
        bid_id = _prepare(p, event, body)
        response = p.deliver(delivery_path(event), body, webhook_id=str(meta["webhook-id"]))
        assert response.status_code == 200, response.text
        assert response.json()["applied"] is True, response.text
        assert _outcome(p, event, body, bid_id) == producer_status(event)

    return handle


def run_message(event: str, tmp_path: Path, pact_dir: Path) -> None:
    pact = Pact(CONSUMER, MESSAGE_PROVIDER).with_specification("V4")
    declare(pact, event)
    errors = pact.verify(handler_for(tmp_path, event), "Async", raises=False)
    assert not errors, "; ".join(f"{e.description}: {e.error!r}" for e in errors or [])
    pact.write_file(pact_dir, overwrite=False)
