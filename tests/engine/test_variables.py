"""Variables and JSON pointers in scenarios."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lotflow.engine.variables import MISSING, UnknownVariableError, pointer_get, substitute

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def test_a_whole_string_variable_keeps_its_type() -> None:
    assert substitute({"amount": "${n}"}, {"n": 250000}, NOW) == {"amount": 250000}


def test_a_variable_inside_text_is_stringified() -> None:
    assert substitute("NA-${run_id}", {"run_id": "ab12"}, NOW) == "NA-ab12"


def test_relative_dates_are_iso_utc() -> None:
    assert substitute("${now+2d}", {}, NOW) == "2026-11-27T09:30:00.000Z"
    assert substitute("${now-90m}", {}, NOW) == "2026-11-25T08:00:00.000Z"


def test_an_unknown_variable_is_named() -> None:
    with pytest.raises(UnknownVariableError) as caught:
        substitute(["${lot_id}"], {}, NOW)
    assert caught.value.args[0] == "lot_id"


def test_pointers_reach_into_objects_and_arrays() -> None:
    doc = {"lots": [{"_id": "a", "a/b": 1}]}
    assert pointer_get(doc, "/lots/0/_id") == "a"
    assert pointer_get(doc, "/lots/0/a~1b") == 1
    assert pointer_get(doc, "/lots/1") is MISSING
