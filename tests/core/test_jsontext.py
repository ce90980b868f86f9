"""The one JSON encoder: orjson's compact UTF-8 text, the standard library for what orjson
refuses, and always text that parses back to the value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lotflow.jsontext import dumps, encode


@pytest.mark.parametrize(
    "value",
    [
        {"title": "Kérosène 燃料 ✈", "amount": 1.5, "n": None, "ok": True},
        {"amount": 2**70},  # beyond 64 bits: orjson refuses it
        {"text": "jet \ud99b fuel"},  # a lone surrogate: orjson refuses it
        {1: "a key that is not a string"},
        [0.1, -0.0, 1e-7, 1e16],
    ],
)
def test_the_text_parses_back_to_the_value(value: Any) -> None:
    text = dumps(value)
    expected = json.loads(json.dumps(value))
    assert json.loads(text) == expected
    assert encode(value).decode("utf-8") == text  # always valid UTF-8


def test_the_text_is_compact_and_not_ascii_escaped() -> None:
    assert dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'


def test_a_lone_surrogate_is_written_as_its_escape() -> None:
    assert dumps({"t": "\ud800"}) == '{"t":"\\ud800"}'
