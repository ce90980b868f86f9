"""Races against a real server: parallel accepts and duplicate submissions end with one of each."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from lotflow.reference.buyer.app import create_app
from lotflow.reference.buyer.settings import BuyerSettings
from sqlalchemy import func, select

from lotflow.serving import ServerThread
from tests.fixtures.buyer import API_KEY, LOT, TOKEN_A, buyer_env

N = 16


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    app = create_app(BuyerSettings.from_env(buyer_env(tmp_path)), dispatcher_enabled=False)
    with ServerThread(app) as running:
        yield running.url, app.state.context


def together(
    count: int, action: Callable[[httpx.Client, int], httpx.Response]
) -> list[httpx.Response]:
    """Run ``action`` from ``count`` threads released at the same instant."""
    barrier = threading.Barrier(count)

    def worker(index: int) -> httpx.Response:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            return action(client, index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(worker, range(count)))


def setup_lot(url: str, bids: int) -> tuple[str, list[str]]:
    operator = {"Authorization": f"Bearer {TOKEN_A}"}
    with httpx.Client(base_url=url, timeout=30) as client:
        lot = client.post("/api/lots", json=LOT, headers=operator).json()["lot"]["_id"]
        client.post(f"/api/lots/{lot}/publish", headers=operator)
        ids = [
            client.post(
                "/api/bids",
                headers={"X-API-Key": API_KEY},
                json={
                    "lotId": lot,
                    "volume": {"amount": 1000, "unit": "gallons"},
                    "pricing": {"price": 6300, "currency": "USD", "pricePerUnit": 6.3},
                    "bidderId": f"p{i}",
                    "bidderName": f"P{i}",
                    "externalBidId": f"e{i}",
                },
            ).json()["bid"]["_id"]
            for i in range(bids)
        ]
    return lot, ids


def count_rows(context: Any, table: Any) -> int:
    with context.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_parallel_accepts_of_one_bid_make_exactly_one_contract(server: tuple[str, Any]) -> None:
    url, context = server
    _, (bid,) = setup_lot(url, 1)
    answers = together(
        N,
        lambda c, _: c.put(
            f"{url}/api/bids/{bid}",
            json={"status": "accepted"},
            headers={"Authorization": f"Bearer {TOKEN_A}"},
        ),
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * (N - 1)
    assert count_rows(context, context.tables.contracts) == 1


def test_parallel_accepts_of_two_bids_on_one_lot_award_only_one(server: tuple[str, Any]) -> None:
    url, context = server
    _, bids = setup_lot(url, 2)
    answers = together(
        N,
        lambda c, i: c.put(
            f"{url}/api/bids/{bids[i % 2]}",
            json={"status": "accepted"},
            headers={"Authorization": f"Bearer {TOKEN_A}"},
        ),
    )
    assert sorted(a.status_code for a in answers).count(200) == 1
    assert count_rows(context, context.tables.contracts) == 1
    with httpx.Client(base_url=url) as client:
        states = sorted(
            client.get(f"/api/bids/{b}", headers={"Authorization": f"Bearer {TOKEN_A}"}).json()[
                "bid"
            ]["status"]
            for b in bids
        )
    assert states == ["accepted", "rejected"]


def test_parallel_duplicate_submissions_store_one_bid(server: tuple[str, Any]) -> None:
    url, context = server
    lot, _ = setup_lot(url, 0)
    body = {
        "lotId": lot,
        "volume": {"amount": 1000, "unit": "gallons"},
        "pricing": {"price": 6300, "currency": "USD", "pricePerUnit": 6.3},
        "bidderId": "p",
        "bidderName": "P",
        "externalBidId": "same-id",
    }
    answers = together(
        N, lambda c, _: c.post(f"{url}/api/bids", json=body, headers={"X-API-Key": API_KEY})
    )
    assert sorted(a.status_code for a in answers) == [200] * (N - 1) + [201]
    assert len({a.json()["bid"]["_id"] for a in answers}) == 1
    assert count_rows(context, context.tables.bids) == 1
