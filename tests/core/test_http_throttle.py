"""Failed authentications are counted per client: past the limit, 429 with Retry-After until the
oldest failure leaves the window; and every answer carries the safe headers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lotflow.clock import FakeClock
from lotflow.http import FailureThrottle
from tests.core.portal import ITEM_ID, KEY_HEADERS, portal_app, problem_of

pytestmark = pytest.mark.anyio

WRONG = {"X-API-Key": "not-the-key-at-all"}


async def _client(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 4711))
    return httpx.AsyncClient(transport=transport, base_url="http://portal")


async def test_a_client_past_its_failures_is_refused_with_429_until_the_window_passes(
    portal_spec: dict[str, Any],
) -> None:
    clock = FakeClock()
    throttle = FailureThrottle(3, 60.0, clock)
    app = portal_app(portal_spec, auth_throttle=throttle)
    async with await _client(app, "203.0.113.7") as guesser:
        statuses = [(await guesser.get(f"/items/{ITEM_ID}", headers=WRONG)).status_code]
        clock.advance(seconds=10)
        statuses += [(await guesser.get(f"/items/{ITEM_ID}", headers=WRONG)).status_code]
        statuses += [(await guesser.get(f"/items/{ITEM_ID}", headers=WRONG)).status_code]
        refused = await guesser.get(f"/items/{ITEM_ID}", headers=KEY_HEADERS)  # even the right key
        clock.advance(seconds=50)  # the first failure leaves the window
        allowed = await guesser.get(f"/items/{ITEM_ID}", headers=KEY_HEADERS)
    assert statuses == [401, 401, 401]
    assert refused.status_code == 429
    assert problem_of(refused)["code"] == "too_many_failures"
    assert refused.headers["retry-after"] == "50"
    assert allowed.status_code == 200
    assert throttle.refused == 1


async def test_other_clients_and_successes_are_not_counted(portal_spec: dict[str, Any]) -> None:
    throttle = FailureThrottle(2, 60.0, FakeClock())
    app = portal_app(portal_spec, auth_throttle=throttle)
    async with await _client(app, "203.0.113.7") as guesser:
        for _ in range(2):
            await guesser.get(f"/items/{ITEM_ID}", headers=WRONG)
    async with await _client(app, "198.51.100.2") as neighbour:
        answers = [await neighbour.get(f"/items/{ITEM_ID}", headers=KEY_HEADERS) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5


async def test_a_limit_of_zero_counts_nothing(portal_spec: dict[str, Any]) -> None:
    app = portal_app(portal_spec, auth_throttle=FailureThrottle(0, 60.0, FakeClock()))
    async with await _client(app, "203.0.113.7") as guesser:
        answers = [await guesser.get(f"/items/{ITEM_ID}", headers=WRONG) for _ in range(40)]
    assert {a.status_code for a in answers} == {401}


def test_the_tracked_clients_are_bounded() -> None:
    throttle = FailureThrottle(5, 60.0, FakeClock(), clients=100)
    for n in range(1000):
        throttle.failed(f"10.0.{n // 256}.{n % 256}")
    assert throttle.tracked == 100


@pytest.mark.parametrize(
    ("method", "url", "headers"),
    [
        ("GET", f"/items/{ITEM_ID}", KEY_HEADERS),  # an authenticated answer
        ("GET", f"/items/{ITEM_ID}", {}),  # a refusal
        ("GET", "/nowhere", {}),  # the router's 404
        ("GET", "/openapi.json", {}),
    ],
)
async def test_every_answer_says_nosniff_and_no_store(
    portal_spec: dict[str, Any], method: str, url: str, headers: dict[str, str]
) -> None:
    async with await _client(portal_app(portal_spec), "203.0.113.7") as client:
        response = await client.request(method, url, headers=headers)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
