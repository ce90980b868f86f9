"""The runner presents each actor's credential where the spec's security scheme says: the
scheme decides the header (or query parameter, or cookie); only which secret is code's choice."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from lotflow.clock import FakeClock
from lotflow.engine.calls import Caller, Target
from lotflow.engine.operations import operation_index
from lotflow.engine.parties import Parties
from lotflow.openapi import load_portal_spec

PARTIES = Parties(
    buyer_url="http://buyer.test",
    producer_url="http://producer.test",
    buyer_token="buyer-token",
    buyer_api_key="api-key",
    producer_tokens={"alpha": "alpha-token"},
)


def _sent(specs: dict[str, dict[str, Any]], target: Target) -> httpx.Request:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    client = httpx.Client(transport=httpx.MockTransport(answer))
    Caller(PARTIES, operation_index(specs), client, FakeClock()).send(target)
    return seen[0]


def _target(operation: str, alias: str = "", **path: str) -> Target:
    return Target(operation, "actor", alias, path, {}, None)


def test_each_operation_gets_the_header_its_scheme_names() -> None:
    specs = {p: load_portal_spec(p) for p in ("buyer", "producer")}
    by_key = _sent(specs, _target("listExternalLots"))
    assert (by_key.headers["x-api-key"], "authorization" in by_key.headers) == ("api-key", False)
    operator = _sent(specs, _target("listLots"))
    assert operator.headers["authorization"] == "Bearer buyer-token"
    alpha = _sent(specs, _target("getMarketplaceLot", "alpha", lotId="l1"))
    assert alpha.headers["authorization"] == "Bearer alpha-token"


def test_a_scheme_that_moves_the_key_to_the_query_moves_what_the_runner_sends() -> None:
    buyer = copy.deepcopy(load_portal_spec("buyer"))
    buyer["components"]["securitySchemes"]["producerApiKey"] = {
        "type": "apiKey",
        "in": "query",
        "name": "api_key",
    }
    sent = _sent({"buyer": buyer}, _target("listExternalLots"))
    assert sent.url.params["api_key"] == "api-key"
    assert "x-api-key" not in sent.headers
