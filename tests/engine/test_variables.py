"""``${name}`` substitution: saved values, built-ins, types kept or stringified, unknown names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lotflow.engine.variables import UnknownVariableError, substitute

NOW = datetime(2026, 1, 1, 12, 30, 15, 987654, tzinfo=UTC)
SAVED = {"lot_id": "6650f0c2a1b2c3d4e5f60718", "amount": 250000, "terms": {"net": 30}, "ok": True}


def test_a_whole_string_reference_keeps_the_value_s_json_type() -> None:
    assert substitute("${amount}", SAVED, NOW) == 250000
    assert substitute("${terms}", SAVED, NOW) == {"net": 30}
    assert substitute("${ok}", SAVED, NOW) is True


def test_inside_a_longer_string_the_value_is_written_as_text() -> None:
    assert substitute("lot ${lot_id}", SAVED, NOW) == "lot 6650f0c2a1b2c3d4e5f60718"
    assert substitute("${amount} gal, ok=${ok}", SAVED, NOW) == "250000 gal, ok=true"
    assert substitute("terms ${terms}", SAVED, NOW) == 'terms {"net": 30}'


def test_substitution_reaches_into_lists_mappings_and_keys() -> None:
    value = {"/lots/${amount}/_id": ["${lot_id}", {"n": "${amount}"}], "plain": 1.5}
    assert substitute(value, SAVED, NOW) == {
        "/lots/250000/_id": ["6650f0c2a1b2c3d4e5f60718", {"n": 250000}],
        "plain": 1.5,
    }


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("${now}", "2026-01-01T12:30:15.000Z"),
        ("${now+7d}", "2026-01-08T12:30:15.000Z"),
        ("${now-1h}", "2026-01-01T11:30:15.000Z"),
        ("${now+90s}", "2026-01-01T12:31:45.000Z"),
        ("${now+2w}", "2026-01-15T12:30:15.000Z"),
    ],
)
def test_relative_dates_are_iso_8601_utc_instants_from_the_given_clock(
    reference: str, expected: str
) -> None:
    assert substitute(reference, {}, NOW) == expected


def test_run_id_is_an_ordinary_variable_the_runner_provides() -> None:
    assert substitute("ext-${run_id}", {"run_id": "ab12cd34-1"}, NOW) == "ext-ab12cd34-1"


def test_an_unknown_variable_names_itself_and_the_closest_known_one() -> None:
    with pytest.raises(UnknownVariableError) as caught:
        substitute({"path": ["${lott_id}"]}, SAVED, NOW)
    assert caught.value.name == "lott_id"
    assert str(caught.value).startswith("unknown variable ${lott_id}: no earlier step saved it")
    assert "did you mean ${lot_id}?" in str(caught.value)


def test_a_doubled_dollar_is_a_literal_reference() -> None:
    assert substitute("$${lot_id} is ${amount}", SAVED, NOW) == "${lot_id} is 250000"
    assert substitute("$${nothing}", {}, NOW) == "${nothing}"


def test_values_without_references_are_returned_unchanged() -> None:
    assert substitute(None, SAVED, NOW) is None
    assert substitute(3, SAVED, NOW) == 3
    assert substitute("no $ {refs} here", SAVED, NOW) == "no $ {refs} here"
