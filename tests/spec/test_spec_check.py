"""The shipped contract passes every check, and each check catches the defect it guards."""

from __future__ import annotations

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


def test_an_example_that_breaks_its_schema_is_reported(spec_copy: Path) -> None:
    replace_in(
        spec_copy / "openapi" / "components.yaml",
        "{amount: 500000, unit: gallons}",
        "{amount: -5, unit: barrels}",
    )
    problems = check_spec(spec_copy).problems
    assert any("schema Volume, example 1" in p for p in problems), problems


def test_an_unresolvable_ref_is_a_spec_error_naming_it(spec_copy: Path) -> None:
    replace_in(spec_copy / "openapi" / "buyer.yaml", "schemas/LotList", "schemas/LotListt")
    with pytest.raises(SpecError, match="LotListt"):
        check_spec(spec_copy)


def test_a_missing_operation_id_is_reported(spec_copy: Path) -> None:
    replace_in(spec_copy / "openapi" / "producer.yaml", "      operationId: syncMarketplace\n", "")
    problems = check_spec(spec_copy).problems
    assert any("POST /api/marketplace/sync: no operationId" in p for p in problems), problems


def test_an_operation_id_used_by_both_portals_is_reported(spec_copy: Path) -> None:
    replace_in(
        spec_copy / "openapi" / "producer.yaml",
        "operationId: getProducerBid\n",
        "operationId: getBid\n",
    )
    problems = check_spec(spec_copy).problems
    assert any("'getBid' is used twice" in p for p in problems), problems


def test_a_link_to_an_unknown_operation_is_reported(spec_copy: Path) -> None:
    replace_in(
        spec_copy / "openapi" / "buyer.yaml", "{operationId: getLot,", "{operationId: getLott,"
    )
    problems = check_spec(spec_copy).problems
    assert any("link GetLot names unknown operation" in p for p in problems), problems


def test_an_invalid_openapi_document_is_reported(spec_copy: Path) -> None:
    replace_in(
        spec_copy / "openapi" / "buyer.yaml", "openapi: 3.1.0", "openapi: 3.1.0\nbogusTopLevel: 1"
    )
    problems = check_spec(spec_copy).problems
    assert any(p.startswith("buyer:") and "bogusTopLevel" in p for p in problems), problems


def test_a_workflow_cause_missing_from_the_spec_is_reported(spec_copy: Path) -> None:
    replace_in(
        spec_copy / "workflow.yaml",
        "cause: {operation: publishLot}",
        "cause: {operation: publishLots}",
    )
    problems = check_spec(spec_copy).problems
    assert any("'publishLots' is not in the spec" in p for p in problems), problems


def test_an_unreachable_state_is_reported(spec_copy: Path) -> None:
    replace_in(
        spec_copy / "workflow.yaml", "{from: [draft], to: published,", "{from: [draft], to: draft,"
    )
    problems = check_spec(spec_copy).problems
    assert any("buyer.lot: state 'published' is unreachable" in p for p in problems), problems


def test_a_terminal_state_with_a_way_out_is_reported(spec_copy: Path) -> None:
    replace_in(
        spec_copy / "workflow.yaml",
        "terminal: [sold, cancelled]",
        "terminal: [sold, cancelled, reserved]",
    )
    problems = check_spec(spec_copy).problems
    assert any("terminal state 'reserved' has a way out" in p for p in problems), problems


def test_a_mapping_to_an_unknown_producer_state_is_reported(spec_copy: Path) -> None:
    replace_in(spec_copy / "workflow.yaml", "accepted: won", "accepted: victorious")
    problems = check_spec(spec_copy).problems
    assert any("'victorious' is not a producer bid state" in p for p in problems), problems
