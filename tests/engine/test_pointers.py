"""JSON pointers into bodies, and equality as JSON means it."""

from __future__ import annotations

import pytest

from lotflow.engine.pointers import MISSING, resolve_pointer, same_json, show

DOC = {"lot": {"_id": "l1", "tags": ["a", "b"], "a/b": 1, "m~n": 2, "gone": None}}


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [
        ("/lot/_id", "l1"),
        ("/lot/tags/1", "b"),
        ("/lot/a~1b", 1),
        ("/lot/m~0n", 2),
        ("/lot/gone", None),
        ("", DOC),
    ],
)
def test_a_pointer_finds_its_value(pointer: str, expected: object) -> None:
    assert resolve_pointer(DOC, pointer) == expected


@pytest.mark.parametrize(
    "pointer", ["/lot/absent", "/lot/tags/2", "/lot/tags/x", "/lot/_id/deeper"]
)
def test_a_pointer_that_leads_nowhere_is_missing_not_null(pointer: str) -> None:
    assert resolve_pointer(DOC, pointer) is MISSING


def test_numbers_compare_by_value_but_booleans_are_not_numbers() -> None:
    assert same_json(1600000, 1600000.0)
    assert not same_json(True, 1)
    assert not same_json(0, False)
    assert not same_json("1", 1)
    assert same_json({"a": [1, {"b": True}]}, {"a": [1.0, {"b": True}]})
    assert not same_json({"a": 1}, {"a": 1, "b": 2})
    assert not same_json([1, 2], [1])


def test_values_are_shown_readably_for_messages() -> None:
    assert show("open") == "'open'"
    assert show({"a": 1}) == '{"a": 1}'
    assert show(MISSING) == "nothing"
    assert show("x" * 500, limit=10).endswith("…")
