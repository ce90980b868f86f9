"""One request builder for the clients and the scenario engine: paths, query, body, credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from lotflow.errors import ConfigError
from lotflow.openapi import Credential, SecurityScheme, operations, security_schemes
from lotflow.retry_after import parse_retry_after
from lotflow.speccall import PathParameterError, build_call, fill_path

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def test_a_path_value_is_quoted_as_one_segment_and_a_non_string_is_json_text(
    portal_spec: dict[str, Any],
) -> None:
    get_item = operations(portal_spec)["getItem"]
    assert fill_path(get_item, {"itemId": "a/b c?"}) == "/items/a%2Fb%20c%3F"
    assert fill_path(get_item, {"itemId": True}) == "/items/true"
    assert fill_path(get_item, {"itemId": 5}) == "/items/5"


def test_a_missing_or_unknown_path_value_is_a_config_error_naming_both(
    portal_spec: dict[str, Any],
) -> None:
    get_item = operations(portal_spec)["getItem"]
    with pytest.raises(PathParameterError) as caught:
        fill_path(get_item, {"itemID": "x"})
    assert isinstance(caught.value, ConfigError)
    assert (caught.value.missing, caught.value.extra) == (["itemId"], ["itemID"])
    assert caught.value.reason == "needs itemId and has no itemID"
    with pytest.raises(PathParameterError, match="needs itemId"):
        fill_path(get_item, {"itemId": None})


def test_a_call_drops_absent_query_values_and_sends_bytes_as_json(
    portal_spec: dict[str, Any],
) -> None:
    ops = operations(portal_spec)
    listing = build_call(ops["listItems"], "http://p/base/", query={"limit": 5, "tag": None})
    request = listing.request(httpx.Client())
    assert (request.method, str(request.url)) == ("GET", "http://p/base/items?limit=5")
    assert listing.retryable
    raw = build_call(ops["createItem"], "http://p", body=b'{"name":"x"}')
    assert (raw.content, raw.headers["Content-Type"], raw.retryable) == (
        b'{"name":"x"}',
        "application/json",
        False,
    )


def test_security_schemes_are_read_from_the_spec(portal_spec: dict[str, Any]) -> None:
    schemes = security_schemes(portal_spec)
    assert schemes["apiKey"].present("k") == Credential(headers={"X-API-Key": "k"})
    assert schemes["bearer"].present("t") == Credential(headers={"Authorization": "Bearer t"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "apiKey", "in": "query", "name": "key"}, Credential(query={"key": "s"})),
        (
            {"type": "apiKey", "in": "cookie", "name": "sid"},
            Credential(headers={"Cookie": "sid=s"}),
        ),
        ({"type": "http", "scheme": "Bearer"}, Credential(headers={"Authorization": "Bearer s"})),
        ({"type": "http", "scheme": "basic"}, None),
        ({"type": "oauth2", "flows": {}}, None),
    ],
)
def test_a_secret_is_placed_where_the_scheme_reads_it(
    raw: dict[str, Any], expected: Credential | None
) -> None:
    assert SecurityScheme.from_spec("s", raw).present("s") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 120 ", 120.0),
        (format_datetime(NOW + timedelta(seconds=7), usegmt=True), 7.0),
        (format_datetime(NOW - timedelta(seconds=7), usegmt=True), 0.0),
        ("Wed, 25 Nov 2026 09:30:07", None),  # no zone: unusable
        ("-1", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date_from_now(
    value: str | None, expected: float | None
) -> None:
    assert parse_retry_after(value, NOW) == expected
