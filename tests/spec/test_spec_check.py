"""The shipped contract passes every check, and each check catches the defect it guards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lotflow.errors import SpecError
from lotflow.speccheck import check_spec
from tests.fixtures.spec import replace_in


def test_shipped_contract_has_no_problems() -> None:
    report = check_spec()
    assert report.problems == []
    assert set(report.portals) == {"buyer", "producer"}


def test_every_component_schema_has_an_example_in_the_bundled_documents() -> None:
    report = check_spec()
    for summary in report.portals.values():
        schemas = summary.document["components"]["schemas"]
        assert schemas, summary.portal
        assert all(schema.get("examples") for schema in schemas.values())


def test_bundled_documents_have_no_external_refs() -> None:
    report = check_spec()
    for summary in report.portals.values():
        assert "components.yaml#" not in repr(summary.document)


DEFECTS = [
    pytest.param(
        "openapi/components.yaml",
        "{amount: 500000, unit: gallons}",
        "{amount: -5, unit: barrels}",
        r"schema Volume, example 1",
        id="an example that breaks its schema",
    ),
    pytest.param(
        "openapi/producer.yaml",
        "      operationId: syncMarketplace\n",
        "",
        r"POST /api/marketplace/sync: no operationId",
        id="a missing operationId",
    ),
    pytest.param(
        "openapi/producer.yaml",
        "operationId: getProducerBid\n",
        "operationId: getBid\n",
        r"'getBid' is used twice",
        id="an operationId used by both portals",
    ),
    pytest.param(
        "openapi/buyer.yaml",
        "{operationId: getLot,",
        "{operationId: getLott,",
        r"link GetLot names unknown operation",
        id="a link to an unknown operation",
    ),
    pytest.param(
        "openapi/buyer.yaml",
        "openapi: 3.1.0",
        "openapi: 3.1.0\nbogusTopLevel: 1",
        r"^buyer:.*bogusTopLevel",
        id="an invalid OpenAPI document",
    ),
    pytest.param(
        "workflow.yaml",
        "cause: {operation: publishLot}",
        "cause: {operation: publishLots}",
        r"'publishLots' is not in the spec",
        id="a workflow cause missing from the spec",
    ),
    pytest.param(
        "workflow.yaml",
        "{from: [draft], to: published,",
        "{from: [draft], to: draft,",
        r"buyer\.lot: state 'published' is unreachable",
        id="an unreachable state",
    ),
    pytest.param(
        "workflow.yaml",
        "terminal: [sold, cancelled]",
        "terminal: [sold, cancelled, reserved]",
        r"terminal state 'reserved' has a way out",
        id="a terminal state with a way out",
    ),
    pytest.param(
        "workflow.yaml",
        "accepted: won",
        "accepted: victorious",
        r"'victorious' is not a producer bid state",
        id="a mapping to an unknown producer state",
    ),
]


@pytest.mark.parametrize(("file", "old", "new", "expected"), DEFECTS)
def test_each_defect_is_reported(
    spec_copy: Path, file: str, old: str, new: str, expected: str
) -> None:
    replace_in(spec_copy / file, old, new)
    problems = check_spec(spec_copy).problems
    assert any(re.search(expected, p) for p in problems), problems


def test_an_unresolvable_ref_is_a_spec_error_naming_it(spec_copy: Path) -> None:
    replace_in(spec_copy / "openapi" / "buyer.yaml", "schemas/LotList", "schemas/LotListt")
    with pytest.raises(SpecError, match="LotListt"):
        check_spec(spec_copy)
