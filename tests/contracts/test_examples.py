"""Bodies and matchers from the spec: what each schema makes of an example value."""

from __future__ import annotations

import json
from typing import Any

from pact.match.matcher import AbstractMatcher

from lotflow.openapi import load_portal_spec
from lotflow.pact.examples import composed, example, matching, schema_named

SPEC = load_portal_spec("buyer")


def _integration(value: Any) -> Any:
    """The matcher tree as the Pact core receives it."""
    from pact.match.matcher import IntegrationJSONEncoder

    return json.loads(json.dumps(value, cls=IntegrationJSONEncoder))


def test_each_value_is_matched_by_its_schema() -> None:
    bid = _integration(matching(SPEC, schema_named(SPEC, "Bid"), example(SPEC, "Bid")))
    assert bid["_id"]["pact:matcher:type"] == "regex"
    assert bid["_id"]["regex"] == "^[0-9a-f]{24}$"
    assert bid["version"]["pact:matcher:type"] == "integer"
    assert bid["pricing"]["price"]["pact:matcher:type"] == "number"
    assert bid["createdAt"]["pact:matcher:type"] == "regex"
    assert bid["status"]["regex"] == "^(pending|countered|accepted|rejected|withdrawn|expired)$"
    assert bid["bidderName"]["pact:matcher:type"] == "type"


def test_members_the_schema_lets_be_null_are_left_out() -> None:
    bid = matching(SPEC, schema_named(SPEC, "Bid"), example(SPEC, "Bid"))
    for nullable in ("counterOfferId", "contractId", "message", "expiresAt"):
        assert nullable not in bid


def test_exact_and_injected_members() -> None:
    value = example(SPEC, "BidSubmission")
    body = matching(
        SPEC,
        schema_named(SPEC, "BidSubmission"),
        value,
        exact=frozenset({"/volume/unit"}),
        inject={"/lotId": "${lotId}"},
    )
    assert body["volume"]["unit"] == value["volume"]["unit"]
    injected = _integration(body)["lotId"]
    assert injected["pact:generator:type"] == "ProviderState"
    assert injected["expression"] == "${lotId}"
    assert injected["value"] == value["lotId"]
    assert isinstance(body["externalBidId"], AbstractMatcher)


def test_composed_adds_members_from_their_components_examples() -> None:
    result = composed(SPEC, "CounterOfferAnswerResult", "contract", success=True)
    assert result["contract"] == example(SPEC, "Contract")
    assert result["bid"] == example(SPEC, "Bid")
