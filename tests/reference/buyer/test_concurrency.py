"""Races against a real server: concurrent accepts make one contract, concurrent duplicate
submissions make one bid. The database arbitrates (conditional updates, unique keys); run with
``LOTFLOW_TEST_POSTGRES_URL`` to race real concurrent writers on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from lotflow.reference.buyer import BuyerSettings, create_app
from lotflow.reference.buyer.context import BuyerContext
from lotflow.reference.buyer.tables import bids, contracts, outbox
from sqlalchemy import Table, func, select

from lotflow.clock import SystemClock
from lotflow.serving import ServerThread
from tests.reference.buyer.portal import API_KEY, LOT, TOKENS, bid_body, buyer_env

N = 16
OPERATOR = {"Authorization": f"Bearer {TOKENS['a']}"}
PRODUCER = {"X-API-Key": API_KEY}
Action = Callable[[httpx.Client, int], httpx.Response]


@dataclass
class Server:
    url: str
    ctx: BuyerContext

    def count(self, table: Table, *where: Any) -> int:
        with self.ctx.db.read() as conn:
            statement = select(func.count()).select_from(table).where(*where)
            return int(conn.execute(statement).scalar_one())

    def lot_with_bids(self, count: int) -> tuple[str, list[str]]:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            lot = client.post("/api/lots", json=LOT, headers=OPERATOR).json()["lot"]["_id"]
            client.post(f"/api/lots/{lot}/publish", headers=OPERATOR)
            made = [
                client.post("/api/bids", json=bid_body(lot, f"e{i}"), headers=PRODUCER).json()
                for i in range(count)
            ]
        return lot, [m["bid"]["_id"] for m in made]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    settings = BuyerSettings.from_env(buyer_env(tmp_path))
    app = create_app(settings, clock=SystemClock(), dispatcher_enabled=False)
    with ServerThread(app) as running:
        yield Server(running.url, app.state.buyer)


def together(count: int, url: str, action: Action) -> list[httpx.Response]:
    """``action`` from ``count`` threads, released at the same instant."""
    barrier = threading.Barrier(count)

    def worker(index: int) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=60) as client:
            barrier.wait()
            return action(client, index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(worker, range(count)))


def statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(response.status_code for response in responses)


def test_parallel_accepts_of_one_bid_make_exactly_one_contract(server: Server) -> None:
    lot, [bid] = server.lot_with_bids(1)
    accept = {"status": "accepted"}
    answers = together(
        N, server.url, lambda c, _: c.put(f"/api/bids/{bid}", json=accept, headers=OPERATOR)
    )
    assert statuses(answers) == [200] + [409] * (N - 1)
    refusals = {a.json()["code"] for a in answers if a.status_code == 409}
    assert refusals <= {"illegal_transition", "version_conflict"}
    assert server.count(contracts) == 1
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/api/contracts", headers=OPERATOR).json()["count"] == 1
        assert client.get(f"/api/lots/{lot}", headers=OPERATOR).json()["lot"]["status"] == "sold"
    assert server.count(outbox, outbox.c.event == "contract.created") == 1


def test_parallel_accepts_of_different_bids_on_one_lot_make_exactly_one_contract(
    server: Server,
) -> None:
    _, made = server.lot_with_bids(N)
    accept = {"status": "accepted"}
    answers = together(
        N, server.url, lambda c, i: c.put(f"/api/bids/{made[i]}", json=accept, headers=OPERATOR)
    )
    assert statuses(answers) == [200] + [409] * (N - 1)
    winner = next(a.json()["bid"]["_id"] for a in answers if a.status_code == 200)
    assert server.count(contracts) == 1
    assert server.count(bids, bids.c.status == "accepted") == 1
    assert server.count(bids, bids.c.status == "rejected") == N - 1
    with httpx.Client(base_url=server.url) as client:
        listed = client.get("/api/contracts", headers=OPERATOR).json()
        assert (listed["count"], listed["contracts"][0]["bidId"]) == (1, winner)


def test_parallel_answers_to_one_counter_offer_make_at_most_one_contract(server: Server) -> None:
    _, [bid] = server.lot_with_bids(1)
    counter = {"volume": {"amount": 1000, "unit": "gallons"}, "pricePerUnit": 6.4}
    with httpx.Client(base_url=server.url) as client:
        made = client.post(f"/api/bids/{bid}/counter", json=counter, headers=OPERATOR)
        assert made.status_code == 201
    url = f"/api/bids/{bid}/accept-counter"
    answers = together(
        N, server.url, lambda c, i: c.post(url, json={"accept": i % 2 == 0}, headers=PRODUCER)
    )
    assert statuses(answers) == [200] + [409] * (N - 1)
    answered = next(a.json() for a in answers if a.status_code == 200)
    assert server.count(contracts) == (1 if "contract" in answered else 0)


def test_parallel_duplicate_submissions_make_exactly_one_bid(server: Server) -> None:
    lot, _ = server.lot_with_bids(0)
    body = bid_body(lot, "dup")
    answers = together(N, server.url, lambda c, _: c.post("/api/bids", json=body, headers=PRODUCER))
    assert statuses(answers) == [200] * (N - 1) + [201]
    assert len({answer.json()["bid"]["_id"] for answer in answers}) == 1
    assert server.count(bids) == 1


def test_parallel_distinct_submissions_are_each_stored_once_and_answered_after_commit(
    server: Server,
) -> None:
    """On SQLite concurrent writers share group commits; every answer must still mean stored."""
    from lotflow.reference.buyer.tables import notifications

    lot, _ = server.lot_with_bids(0)
    answers = together(
        N,
        server.url,
        lambda c, i: c.post("/api/bids", json=bid_body(lot, f"p{i}"), headers=PRODUCER),
    )
    assert statuses(answers) == [201] * N
    assert server.count(bids) == N
    assert server.count(notifications, notifications.c.status == "bid_received") == N
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for answer in answers:
            bid = answer.json()["bid"]
            stored = client.get(f"/api/bids/{bid['_id']}", headers=OPERATOR)
            assert stored.json()["bid"] == bid
