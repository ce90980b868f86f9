"""The Schemathesis completion helper leaves the data it is given alone.

Schemathesis hands out the spec's example bodies as shared objects; completing one in place made
the next draw of that example differ from the first, which Hypothesis reported as a flaky
strategy in deep stateful fuzzing.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lotflow.openapi import load_portal_spec, operations, resolve
from tests.reference.buyer.contract_data import make_contract_valid
from tests.reference.buyer.portal import LOT

SPEC = load_portal_spec("buyer")
PUBLISHED = {**LOT, "_id": "6b06a39062d82c07cd000001", "status": "published"}


def _examples(operation_id: str) -> list[Any]:
    schema = operations(SPEC)[operation_id].request_schema
    assert schema is not None
    return list(resolve(SPEC, schema).get("examples", []))


@pytest.mark.parametrize("operation_id", ["createLot", "updateLot", "submitBid", "counterBid"])
def test_completing_a_spec_example_changes_a_copy_only(operation_id: str) -> None:
    examples = _examples(operation_id)
    assert examples, f"{operation_id} has no request example to check"
    for example in examples:
        before = copy.deepcopy(example)
        completed = make_contract_valid(operation_id, example, PUBLISHED)
        assert example == before
        assert completed is not example


def test_an_update_with_pricing_only_gets_a_volume_in_the_copy() -> None:
    (example,) = [e for e in _examples("updateLot") if "volume" not in e]
    completed = make_contract_valid("updateLot", example, PUBLISHED)
    assert "volume" in completed
    assert "volume" not in example
    assert completed["pricing"]["price"] == round(
        completed["volume"]["amount"] * completed["pricing"]["pricePerUnit"], 2
    )
