"""Loading the spec as data: bundling split documents, indexing operations, validating values."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from lotflow.errors import SpecError
from lotflow.openapi import (
    Portal,
    bundle,
    load_portal_spec,
    operations,
    resolve,
    validate_spec,
    validator_for,
    webhooks,
)
from lotflow.problems import FieldError


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


# ---------------------------------------------------------------- bundling


def test_bundling_makes_every_ref_local_and_resolvable(portal_spec: dict[str, Any]) -> None:
    refs = _refs(portal_spec)
    assert refs
    assert all(ref.startswith("#/components/") for ref in refs), refs
    for ref in refs:
        assert resolve(portal_spec, {"$ref": ref}) is not None


def test_bundling_copies_referenced_components_and_what_they_reference(
    portal_spec: dict[str, Any],
) -> None:
    schemas = portal_spec["components"]["schemas"]
    # ItemResponse and ItemList are local; ItemInput, Item, ObjectId are referenced directly;
    # Volume, Unit and Problem only from inside components.yaml; Unused from nowhere.
    assert set(schemas) == {
        *("ItemResponse", "ItemList", "ItemInput", "Item", "ObjectId", "Volume", "Unit", "Problem")
    }
    assert schemas["Volume"]["properties"]["unit"] == {"$ref": "#/components/schemas/Unit"}
    assert set(portal_spec["components"]["responses"]) == {"Problem"}


def test_the_bundled_document_is_valid_openapi_31(portal_spec: dict[str, Any]) -> None:
    assert validate_spec(portal_spec) == []


def test_bundled_data_keeps_timestamps_as_strings(portal_spec: dict[str, Any]) -> None:
    example = portal_spec["components"]["schemas"]["Item"]["examples"][0]
    assert example["createdAt"] == "2026-11-25T09:30:00Z"


def test_a_component_defined_differently_in_two_files_is_a_spec_error(fixture_dir: Path) -> None:
    with pytest.raises(SpecError, match=r"/components/schemas/Unit.*clash\.yaml.*components\.yaml"):
        bundle(fixture_dir / "clash.yaml")


def test_an_unresolvable_ref_names_the_file_the_ref_and_where_it_is_used(fixture_dir: Path) -> None:
    with pytest.raises(SpecError) as caught:
        bundle(fixture_dir / "unresolvable.yaml")
    message = str(caught.value)
    assert "components.yaml#/components/schemas/Thing" in message
    assert "unresolvable.yaml#/paths/~1things/get/responses/200" in message
    assert caught.value.path == fixture_dir / "components.yaml"


def test_a_ref_to_a_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    (tmp_path / "doc.yaml").write_text(
        "openapi: 3.1.0\npaths: {}\ncomponents:\n  schemas:\n"
        "    A: {$ref: 'nowhere.yaml#/components/schemas/A'}\n"
    )
    with pytest.raises(SpecError, match=r"missing file .*nowhere\.yaml"):
        bundle(tmp_path / "doc.yaml")


def test_a_local_ref_that_does_not_resolve_is_a_spec_error(tmp_path: Path) -> None:
    (tmp_path / "doc.yaml").write_text(
        "openapi: 3.1.0\npaths: {}\ncomponents:\n  schemas:\n"
        "    A: {$ref: '#/components/schemas/B'}\n"
    )
    with pytest.raises(
        SpecError, match=r"'#/components/schemas/B' at doc\.yaml#/components/schemas/A"
    ):
        bundle(tmp_path / "doc.yaml")


def test_broken_yaml_is_a_spec_error_with_path_and_line(fixture_dir: Path) -> None:
    with pytest.raises(SpecError, match=r"broken\.yaml is not valid YAML at line 5") as caught:
        bundle(fixture_dir / "broken.yaml")
    assert caught.value.path == fixture_dir / "broken.yaml"


def test_a_key_written_twice_is_a_spec_error_naming_file_and_lines(tmp_path: Path) -> None:
    """Plain YAML keeps the last of two equal keys silently; the spec loader refuses them."""
    (tmp_path / "doc.yaml").write_text(
        "openapi: 3.1.0\ninfo:\n  title: t\n  version: '1'\n  title: again\npaths: {}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match=r"doc\.yaml is not valid YAML at line 5") as caught:
        bundle(tmp_path / "doc.yaml")
    assert "'title' appears twice in one mapping (first on line 3)" in str(caught.value)


def test_a_missing_document_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="Cannot read"):
        bundle(tmp_path / "absent.yaml")


def test_validate_spec_reports_readable_problems(portal_spec: dict[str, Any]) -> None:
    del portal_spec["info"]
    problems = validate_spec(portal_spec)
    assert problems
    assert any("info" in problem for problem in problems), problems


def test_load_portal_spec_bundles_a_portal_and_caches_it(tmp_path: Path, fixture_dir: Path) -> None:
    shutil.copy(fixture_dir / "portal.yaml", tmp_path / "buyer.yaml")
    shutil.copy(fixture_dir / "components.yaml", tmp_path / "components.yaml")
    first = load_portal_spec("buyer", tmp_path)
    assert first["info"]["title"] == "Test Portal"
    assert load_portal_spec("buyer", tmp_path) is first


def test_the_shipped_portal_specs_load_as_self_contained_documents() -> None:
    portals: tuple[Portal, ...] = ("buyer", "producer")
    for portal in portals:
        spec = load_portal_spec(portal)
        assert operations(spec)
        assert all(ref.startswith("#/") for ref in _refs(spec))


# ---------------------------------------------------------------- operations and webhooks


def test_operations_are_indexed_by_operation_id(portal_spec: dict[str, Any]) -> None:
    ops = operations(portal_spec)
    assert list(ops) == [
        "listItems",
        "createItem",
        "getSpecialItem",
        "getItem",
        "deleteItem",
        "ping",
    ]
    create = ops["createItem"]
    assert (create.method, create.path) == ("post", "/items")
    assert create.request_schema == {"$ref": "#/components/schemas/ItemInput"}
    assert create.request_required is True
    assert set(create.responses) == {"201", "400", "401", "413", "415", "422"}


def test_path_level_parameters_are_merged_into_each_operation(portal_spec: dict[str, Any]) -> None:
    ops = operations(portal_spec)
    for op_id in ("getItem", "deleteItem"):
        assert [p["name"] for p in ops[op_id].parameters] == ["itemId"]


def test_security_falls_back_to_the_document_default(portal_spec: dict[str, Any]) -> None:
    ops = operations(portal_spec)
    assert ops["listItems"].security == [{"apiKey": []}, {"bearer": []}]
    assert ops["deleteItem"].security == [{"apiKey": [], "bearer": []}]
    assert ops["ping"].security == []


def test_referenced_responses_are_resolved_and_extensions_collected(
    portal_spec: dict[str, Any],
) -> None:
    ops = operations(portal_spec)
    assert "application/problem+json" in ops["listItems"].responses["400"]["content"]
    assert ops["deleteItem"].extensions == {"x-lotflow-idempotent": True}
    assert ops["ping"].tags == []


def test_webhooks_are_listed_by_event_name(portal_spec: dict[str, Any]) -> None:
    assert list(webhooks(portal_spec)) == ["item.created"]
    assert "post" in webhooks(portal_spec)["item.created"]


# ---------------------------------------------------------------- validators

ITEM_INPUT = {"$ref": "#/components/schemas/ItemInput"}


def test_a_valid_value_has_no_errors(portal_spec: dict[str, Any]) -> None:
    value = {
        "name": "jet fuel",
        "volume": {"amount": 5, "unit": "liters"},
        "contact": "a@b.example",
    }
    assert validator_for(portal_spec, ITEM_INPUT).errors(value) == []


def test_errors_name_each_field_by_json_pointer_with_a_readable_message(
    portal_spec: dict[str, Any],
) -> None:
    value = {
        "name": "",
        "volume": {"amount": -1, "unit": "barrels"},
        "contact": "not an email",
        "availableFrom": "yesterday",
        "colour": "red",
    }
    errors = validator_for(portal_spec, ITEM_INPUT).errors(value)
    assert sorted(errors, key=lambda e: e.field) == [
        FieldError("/availableFrom", "must be a valid date-time"),
        FieldError("/colour", "is not allowed"),
        FieldError("/contact", "must be a valid email"),
        FieldError("/name", "must be at least 1 character long"),
        FieldError("/volume/amount", "must be greater than 0"),
        FieldError("/volume/unit", 'must be one of "gallons", "liters"'),
    ]


def test_a_missing_property_is_named_as_a_field(portal_spec: dict[str, Any]) -> None:
    errors = validator_for(portal_spec, ITEM_INPUT).errors({"name": 3})
    assert set(errors) == {
        FieldError("/volume", "is required"),
        FieldError("/name", "must be string, not integer"),
    }


def test_inline_schemas_may_reference_components(portal_spec: dict[str, Any]) -> None:
    schema = {"type": "array", "items": {"$ref": "#/components/schemas/ObjectId"}, "maxItems": 1}
    errors = validator_for(portal_spec, schema).errors(["6750a1c2e4b0f1a2b3c4d5e6", "nope"])
    assert set(errors) == {
        FieldError("", "must have at most 1 item"),
        FieldError("/1", "must match the pattern ^[0-9a-f]{24}$"),
    }


def test_validators_are_compiled_once_per_document_and_schema(portal_spec: dict[str, Any]) -> None:
    first = validator_for(portal_spec, dict(ITEM_INPUT))
    assert validator_for(portal_spec, dict(ITEM_INPUT)) is first
    other_copy = bundle(Path(__file__).parent / "fixtures" / "portal.yaml")
    assert validator_for(other_copy, ITEM_INPUT) is not first


def test_a_schema_that_does_not_compile_is_a_spec_error(portal_spec: dict[str, Any]) -> None:
    with pytest.raises(SpecError, match="does not compile"):
        validator_for(portal_spec, {"$ref": "#/components/schemas/Nope"})
