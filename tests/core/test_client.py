"""The spec-driven client: URLs from the spec, retries only when safe, unreachable parties named."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from lotflow.client import AsyncSpecClient, SpecClient, exponential_backoff
from lotflow.clock import FakeClock
from lotflow.errors import ConfigError, TransportError
from tests.core.portal import ITEM_ID

BASE = "http://portal.test/base"
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


class Recorder:
    """A MockTransport handler that answers from a script and records what it was sent."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _client(
    spec: dict[str, Any], handler: Callable[[httpx.Request], httpx.Response], **options: Any
) -> tuple[SpecClient, list[float]]:
    sleeps: list[float] = []
    client = SpecClient(
        spec,
        BASE,
        headers={"X-API-Key": "k"},
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        **options,
    )
    return client, sleeps


def test_the_url_comes_from_the_operation_path_with_quoted_parameters(
    portal_spec: dict[str, Any],
) -> None:
    recorder = Recorder(httpx.Response(200, json={}))
    client, _ = _client(portal_spec, recorder)
    client.call("getItem", path={"itemId": "a/b c"})
    client.call("listItems", query={"tag": ["x", "y"], "active": True, "limit": None})
    first, second = recorder.requests
    assert (first.method, str(first.url)) == ("GET", f"{BASE}/items/a%2Fb%20c")
    assert first.headers["x-api-key"] == "k"
    assert str(second.url) == f"{BASE}/items?tag=x&tag=y&active=true"


def test_a_body_is_sent_as_json_or_as_given_bytes(portal_spec: dict[str, Any]) -> None:
    recorder = Recorder(httpx.Response(201, json={}))
    client, _ = _client(portal_spec, recorder)
    client.call("createItem", body={"name": "jet fuel"}, headers={"X-Trace": "1"})
    client.call("createItem", body=b'{"name" : "raw"}')
    sent_json, sent_raw = recorder.requests
    assert json.loads(sent_json.content) == {"name": "jet fuel"}
    assert sent_json.headers["x-trace"] == "1"
    assert sent_raw.content == b'{"name" : "raw"}'
    assert sent_raw.headers["content-type"] == "application/json"


def test_a_safe_call_is_retried_on_503_with_exponential_backoff(
    portal_spec: dict[str, Any],
) -> None:
    recorder = Recorder(httpx.Response(503), httpx.Response(502), httpx.Response(200, json={}))
    client, sleeps = _client(portal_spec, recorder, backoff=exponential_backoff(0.5, 10))
    assert client.call("listItems").status_code == 200
    assert len(recorder.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_the_last_retryable_answer_is_returned_when_retries_run_out(
    portal_spec: dict[str, Any],
) -> None:
    recorder = Recorder(httpx.Response(504))
    client, sleeps = _client(portal_spec, recorder, retries=3)
    assert client.call("listItems").status_code == 504
    assert len(recorder.requests) == 4
    assert len(sleeps) == 3


def test_a_429_waits_as_long_as_retry_after_asks_up_to_the_cap(portal_spec: dict[str, Any]) -> None:
    later = format_datetime(NOW + timedelta(seconds=7), usegmt=True)
    recorder = Recorder(
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(429, headers={"Retry-After": "3600"}),
        httpx.Response(429, headers={"Retry-After": later}),
        httpx.Response(200, json={}),
    )
    client, sleeps = _client(
        portal_spec, recorder, retries=3, retry_after_cap=60, clock=FakeClock(NOW)
    )
    assert client.call("listItems").status_code == 200
    assert sleeps == [3.0, 60.0, 7.0]


def test_an_unsafe_call_is_never_retried(portal_spec: dict[str, Any]) -> None:
    recorder = Recorder(httpx.Response(503))
    client, sleeps = _client(portal_spec, recorder)
    assert client.call("createItem", body={}).status_code == 503
    assert (len(recorder.requests), sleeps) == (1, [])


def test_an_operation_marked_idempotent_is_retried(portal_spec: dict[str, Any]) -> None:
    recorder = Recorder(httpx.Response(503), httpx.Response(204))
    client, _ = _client(portal_spec, recorder)
    assert client.call("deleteItem", path={"itemId": ITEM_ID}).status_code == 204
    assert [r.method for r in recorder.requests] == ["DELETE", "DELETE"]


def test_server_errors_other_than_502_503_504_are_not_retried(portal_spec: dict[str, Any]) -> None:
    recorder = Recorder(httpx.Response(500))
    client, _ = _client(portal_spec, recorder)
    assert client.call("listItems").status_code == 500
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("eof")],
)
def test_an_unreachable_party_is_a_transport_error_naming_the_url_after_retries(
    portal_spec: dict[str, Any], error: Exception
) -> None:
    recorder = Recorder(error)
    client, sleeps = _client(portal_spec, recorder, retries=2)
    with pytest.raises(TransportError, match=f"GET {BASE}/items failed after 3 attempts") as caught:
        client.call("listItems")
    assert caught.value.__cause__ is error
    assert len(recorder.requests) == 3
    assert len(sleeps) == 2


def test_an_unsafe_call_to_an_unreachable_party_fails_at_once(portal_spec: dict[str, Any]) -> None:
    recorder = Recorder(httpx.ConnectError("refused"))
    client, sleeps = _client(portal_spec, recorder)
    with pytest.raises(TransportError, match=f"POST {BASE}/items failed after 1 attempt"):
        client.call("createItem", body={})
    assert (len(recorder.requests), sleeps) == (1, [])


def test_an_unknown_operation_suggests_the_closest_one(portal_spec: dict[str, Any]) -> None:
    client, _ = _client(portal_spec, Recorder(httpx.Response(200)))
    with pytest.raises(ConfigError, match="did you mean 'getItem'"):
        client.call("getItme")


def test_a_missing_path_parameter_is_a_config_error(portal_spec: dict[str, Any]) -> None:
    client, _ = _client(portal_spec, Recorder(httpx.Response(200)))
    with pytest.raises(ConfigError, match=r"getItem \(/items/{itemId}\) needs itemId"):
        client.call("getItem")


def test_the_client_is_a_context_manager(portal_spec: dict[str, Any]) -> None:
    with SpecClient(
        portal_spec, BASE, transport=httpx.MockTransport(Recorder(httpx.Response(200)))
    ) as client:
        assert client.call("ping").status_code == 200


@pytest.mark.anyio
async def test_the_async_client_follows_the_same_policy(portal_spec: dict[str, Any]) -> None:
    sleeps: list[float] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    recorder = Recorder(httpx.Response(503), httpx.Response(200, json={"items": []}))
    async with AsyncSpecClient(
        portal_spec, BASE, transport=httpx.MockTransport(recorder), sleep=record_sleep
    ) as client:
        response = await client.call("listItems", query={"limit": 5})
        assert response.json() == {"items": []}
        assert str(recorder.requests[0].url) == f"{BASE}/items?limit=5"
        assert len(sleeps) == 1
        unreachable = AsyncSpecClient(
            portal_spec,
            BASE,
            transport=httpx.MockTransport(Recorder(httpx.ConnectError("refused"))),
            sleep=record_sleep,
            retries=1,
        )
        with pytest.raises(TransportError, match="after 2 attempts"):
            await unreachable.call("listItems")
        await unreachable.aclose()
