"""Hardening both reference portals share: failed authentications limited per client, answers
that say nosniff and no-store, and a database that cannot be used refused at start."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from lotflow.clock import FakeClock
from tests.fixtures.producer import START, TOKEN_A, ScriptedBuyer, make_producer_app
from tests.reference.buyer.portal import API_KEY, make_app

pytestmark = pytest.mark.anyio


async def _statuses(app: object, url: str, good: dict[str, str], bad: dict[str, str]) -> list[int]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
        answers = [await client.get(url, headers=bad) for _ in range(3)]
        answers.append(await client.get(url, headers=good))
    assert answers[-1].headers["retry-after"] == "60"
    return [a.status_code for a in answers]


async def test_the_buyer_refuses_a_client_past_its_failed_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path, FakeClock(START), LOTFLOW_AUTH_FAILURE_LIMIT="3")
    statuses = await _statuses(
        app,
        "/api/lots/external",
        {"X-API-Key": API_KEY},
        {"X-API-Key": "guess-0123456789abcdef"},
    )
    assert statuses == [401, 401, 401, 429]


async def test_the_producer_refuses_a_client_past_its_failed_tokens(tmp_path: Path) -> None:
    app = make_producer_app(
        tmp_path, FakeClock(START), ScriptedBuyer(), LOTFLOW_AUTH_FAILURE_LIMIT="3"
    )
    statuses = await _statuses(
        app,
        "/api/producer/bids",
        {"Authorization": f"Bearer {TOKEN_A}"},
        {"Authorization": "Bearer guess-0123456789abcdef"},
    )
    assert statuses == [401, 401, 401, 429]


async def test_an_authenticated_buyer_answer_is_not_cacheable_nor_sniffable(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, FakeClock(START))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://buyer.test") as client:
        response = await client.get("/api/lots/external", headers={"X-API-Key": API_KEY})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_portal_on_a_file_that_is_not_a_database_refuses_to_start_naming_it(
    tmp_path: Path,
) -> None:
    from lotflow.errors import ConfigError

    garbage = tmp_path / "buyer.sqlite3"
    garbage.write_bytes(b"\x00garbage" * 512)
    with pytest.raises(ConfigError, match="not a database") as refused:
        make_app(tmp_path, FakeClock(START), LOTFLOW_DATABASE_URL=f"sqlite:///{garbage}")
    assert str(garbage) in str(refused.value)
