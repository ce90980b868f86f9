"""Every validation rule: a message that breaks it gives the finding, and the spec's own
examples give none. Then end to end: a finding is kept with the exchange it came from."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from lotflow.simulators import RULES, BuyerSimulator, ProducerSimulator
from lotflow.simulators.validation import CallChecker, WebhookChecker

from lotflow.clock import SystemClock
from lotflow.ids import new_event_id
from lotflow.openapi import load_portal_spec
from lotflow.signing import legacy_bearer_headers, new_webhook_secret, signature_headers

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SCHEMAS = load_portal_spec("buyer")["components"]["schemas"]
JSON = {"content-type": "application/json"}
PROBLEM = {"content-type": "application/problem+json"}


def example(name: str) -> dict[str, Any]:
    return dict(SCHEMAS[name]["examples"][0])


def bid_body() -> dict[str, Any]:
    buyer = CallChecker("buyer")
    from lotflow.openapi import resolve

    return dict(resolve(buyer.spec, buyer.operations["submitBid"].request_schema)["examples"][0])


# ---------------------------------------------------------------- calls
CALLS = CallChecker("buyer")


def request_rules(
    method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: bytes
) -> list[str]:
    return [f.rule for f in CALLS.check_request(method, path, query, headers, body, "producer")]


def response_rules(operation: str, status: int, headers: dict[str, str], body: Any) -> list[str]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    op = CALLS.operations[operation]
    return [f.rule for f in CALLS.check_response(op, status, headers, raw, "buyer")]


REQUEST_CASES = {
    "request.operation": ("POST", "/api/nowhere", [], JSON, b"{}"),
    "request.parameters": (
        "GET",
        "/api/lots/external",
        [("status", "published"), ("colour", "red")],
        {},
        b"",
    ),
    "request.content-type": (
        "POST",
        "/api/bids",
        [],
        {"content-type": "text/plain"},
        json.dumps(bid_body()).encode(),
    ),
    "request.body": ("POST", "/api/bids", [], JSON, json.dumps(bid_body() | {"lotId": 7}).encode()),
}


@pytest.mark.parametrize("rule", REQUEST_CASES)
def test_a_request_that_breaks_a_rule_is_a_finding(rule: str) -> None:
    assert rule in request_rules(*REQUEST_CASES[rule])


def test_a_query_parameter_of_the_wrong_type_is_a_finding() -> None:
    found = CALLS.check_request(
        "GET", "/api/lots/external", [("status", "sideways")], {}, b"", "producer"
    )
    assert [f.rule for f in found] == ["request.parameters"]
    assert "sideways" in found[0].observed


def test_the_specs_own_requests_give_no_findings() -> None:
    assert request_rules("POST", "/api/bids", [], JSON, json.dumps(bid_body()).encode()) == []
    assert request_rules("GET", "/api/lots/external", [("status", "published")], {}, b"") == []


RESPONSE_CASES = {
    "response.status": (
        "listExternalLots",
        418,
        PROBLEM,
        {"type": "x", "title": "teapot", "status": 418},
    ),
    "response.content-type": (
        "listExternalLots",
        200,
        {"content-type": "text/html"},
        b"<html></html>",
    ),
    "response.problem": ("getExternalLot", 404, JSON, {"error": "Lot not found"}),
    "response.body": ("listExternalLots", 200, JSON, {"lots": "none", "count": 0}),
}


@pytest.mark.parametrize("rule", RESPONSE_CASES)
def test_an_answer_that_breaks_a_rule_is_a_finding(rule: str) -> None:
    assert rule in response_rules(*RESPONSE_CASES[rule])


def test_the_specs_own_answers_give_no_findings() -> None:
    lots = {"lots": [example("Lot")], "count": 1}
    assert response_rules("listExternalLots", 200, JSON, lots) == []
    problem = {"type": "about:blank", "title": "Not found", "status": 404}
    assert response_rules("getExternalLot", 404, PROBLEM, problem) == []


# ---------------------------------------------------------------- webhooks
HOOKS = WebhookChecker([SECRET], SystemClock())


def hook(
    payload: Any = None, path: str = "/api/webhooks/lots", **change: Any
) -> tuple[str, dict[str, str], bytes]:
    """A correctly signed lot.published delivery, then changed as asked."""
    payload = (
        payload if payload is not None else example("LotEventPayload") | {"eventId": new_event_id()}
    )
    body = change.pop("body", None) or json.dumps(payload).encode()
    msg_id = change.pop("webhook_id", None) or payload.get("eventId", "msg_x")
    headers = JSON | signature_headers([change.pop("secret", SECRET)], msg_id, body, SystemClock())
    headers |= change.pop("headers", {})
    for name in change.pop("without", ()):
        headers.pop(name)
    return path, headers, body


def hook_rules(delivery: tuple[str, dict[str, str], bytes]) -> list[str]:
    return [f.rule for f in HOOKS.check(*delivery)]


def legacy() -> tuple[str, dict[str, str], bytes]:
    path, headers, body = hook(without=("webhook-signature", "webhook-timestamp"))
    return path, headers | legacy_bearer_headers(SECRET), body


WEBHOOK_CASES = {
    "webhook.headers": lambda: hook(without=("webhook-signature",)),
    "webhook.signature": lambda: hook(secret=new_webhook_secret()),
    "webhook.legacy-auth": legacy,
    "webhook.content-type": lambda: hook(headers={"content-type": "text/plain"}),
    "webhook.payload": lambda: hook(
        {k: v for k, v in example("LotEventPayload").items() if k != "lot"}
    ),
    "webhook.event": lambda: hook(example("LotEventPayload") | {"event": "lot.audited"}),
    "webhook.path": lambda: hook(path="/api/webhooks/bids"),
    "webhook.id": lambda: hook(webhook_id="msg_2pQk7ZtWc9XyB4nR1sLmA8dE3fZ"),
}


@pytest.mark.parametrize("rule", WEBHOOK_CASES)
def test_a_webhook_that_breaks_a_rule_is_a_finding(rule: str) -> None:
    assert rule in hook_rules(WEBHOOK_CASES[rule]())


def test_a_malformed_timestamp_header_is_a_finding() -> None:
    found = HOOKS.check(*hook(headers={"webhook-timestamp": "soon"}))
    assert "webhook.headers" in [f.rule for f in found]


def test_a_legacy_bearer_is_a_deviation_not_a_violation() -> None:
    (finding,) = HOOKS.check(*legacy())
    assert (finding.rule, finding.severity) == ("webhook.legacy-auth", "deviation")


def test_the_specs_own_events_give_no_findings() -> None:
    for name, path in (
        ("LotEventPayload", "lots"),
        ("BidEventPayload", "bids"),
        ("ContractEventPayload", "contracts"),
    ):
        payload = example(name) | {"eventId": new_event_id()}
        assert hook_rules(hook(payload, f"/api/webhooks/{path}")) == [], name


def test_every_rule_has_a_breaking_message_above() -> None:
    assert set(REQUEST_CASES) | set(RESPONSE_CASES) | set(WEBHOOK_CASES) == set(RULES)


# ---------------------------------------------------------------- end to end
def test_a_bad_call_is_kept_as_a_finding_with_its_exchange() -> None:
    with BuyerSimulator() as sim:
        seen: list[str] = []
        sim.state.findings.listen(lambda f: seen.append(f.rule))
        answer = httpx.post(
            f"{sim.url}/api/bids", json={"lotId": 7}, headers={"x-api-key": sim.api_key}
        )
        assert answer.status_code == 422
        (finding,) = sim.findings()
        assert (finding.rule, finding.subject, finding.sender) == (
            "request.body",
            "submitBid",
            "producer",
        )
        exchange = sim.exchanges()[finding.exchange]
        assert exchange.findings == (finding,)
        assert exchange.status == 422
        assert seen == ["request.body"]
        assert sim.control.findings() == [finding.to_dict()]


def test_the_legacy_profile_is_served_and_kept_as_a_deviation() -> None:
    with ProducerSimulator(webhook_auth="legacy-bearer") as sim:
        payload = example("LotEventPayload") | {"eventId": new_event_id()}
        headers = JSON | legacy_bearer_headers(sim.secret) | {"webhook-id": payload["eventId"]}
        answer = httpx.post(f"{sim.url}/api/webhooks/lots", json=payload, headers=headers)
        assert answer.status_code == 200
        (finding,) = sim.findings()
        assert (finding.rule, finding.severity, finding.sender) == (
            "webhook.legacy-auth",
            "deviation",
            "buyer",
        )


def test_lot_webhooks_are_verified_with_the_lot_secret() -> None:
    lot_secret = new_webhook_secret()
    with ProducerSimulator(secret=SECRET, lot_secret=lot_secret) as sim:
        for secret, findings in ((lot_secret, []), (SECRET, ["webhook.signature"])):
            path, headers, body = hook(secret=secret)
            httpx.post(f"{sim.url}{path}", content=body, headers=headers)
            assert [f.rule for f in sim.findings()] == findings
            sim.reset()
