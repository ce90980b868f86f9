"""Live probes against the reference portals on real sockets (port 0), started from the very env
files doctor reads, and against deliberately faulty stand-ins."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from lotflow.reference.buyer.app import create_app as buyer_app
from lotflow.reference.buyer.settings import BuyerSettings
from lotflow.reference.producer.app import create_app as producer_app
from lotflow.reference.producer.settings import ProducerSettings

from lotflow.db import sqlite_url
from lotflow.doctor import Pair, read_env_file
from lotflow.doctor.probes import probe_pair
from lotflow.serving import ServerThread
from tests.doctor.envfiles import (
    BUYER,
    OTHER_KEY,
    OTHER_SECRET,
    PRODUCER,
    edited,
    kinds,
    pair_of,
)

PRODUCER_TOKEN = "sa7k3FBHNYbEe3aIWlXkWSLqtD3WIhH9"  # the operator of producer.env


@contextmanager
def serving(tmp_path: Path, portal: str, env_file: Path, **override: str) -> Iterator[str]:
    """The reference portal configured by ``env_file`` (plus ``override``), on a free port."""
    env = {**read_env_file(env_file).values, **override}
    env["LOTFLOW_DATABASE_URL"] = sqlite_url(tmp_path / f"{portal}.sqlite3")
    if portal == "buyer":
        app = buyer_app(BuyerSettings.from_env(env))
    else:
        app = producer_app(ProducerSettings.from_env(env))
    with ServerThread(app) as server:
        yield server.url


def live(pair: Pair, buyer: str | None = None, producer: str | None = None) -> Pair:
    return Pair(pair.buyer, pair.producer, buyer_url=buyer, producer_url=producer)


def test_the_clean_reference_pair_passes_every_probe_and_changes_nothing(tmp_path: Path) -> None:
    with (
        serving(tmp_path, "buyer", BUYER) as buyer,
        serving(tmp_path, "producer", PRODUCER) as producer,
    ):
        pair = Pair(read_env_file(BUYER), read_env_file(PRODUCER))
        assert probe_pair(live(pair, buyer, producer)) == []
        headers = {"Authorization": f"Bearer {PRODUCER_TOKEN}"}
        notes = httpx.get(f"{producer}/api/producer/notifications", headers=headers)
        assert notes.status_code == 200
        assert notes.json()["notifications"] == []  # the probe event was acknowledged, ignored


def test_a_producer_running_with_another_secret_refuses_the_signed_delivery(
    tmp_path: Path,
) -> None:
    with serving(tmp_path, "producer", PRODUCER, BUYER_WEBHOOK_SECRET=OTHER_SECRET) as producer:
        found = probe_pair(live(pair_of(tmp_path), producer=producer))
    refused = [f for f in found if f.kind == "delivery-refused"]
    assert kinds(found) == ["delivery-refused", "delivery-refused"]  # bids and contracts
    assert {f.problem.split(",")[0].rsplit("/", 1)[1] for f in refused} == {"bids", "contracts"}
    assert all("401" in f.problem and f.producer == ("BUYER_WEBHOOK_SECRET",) for f in refused)


def test_the_lots_receiver_is_probed_with_the_marketplace_secret(tmp_path: Path) -> None:
    with serving(
        tmp_path, "producer", PRODUCER, MARKETPLACE_WEBHOOK_SECRET=OTHER_SECRET
    ) as producer:
        [finding] = probe_pair(live(pair_of(tmp_path), producer=producer))
    assert finding.kind == "delivery-refused"
    assert "/api/webhooks/lots" in finding.problem
    assert finding.producer == ("MARKETPLACE_WEBHOOK_SECRET",)


def test_the_legacy_bearer_dialect_is_spoken_when_the_producer_file_says_so(
    tmp_path: Path,
) -> None:
    with serving(tmp_path, "producer", PRODUCER, LOTFLOW_WEBHOOK_AUTH="legacy-bearer") as producer:
        legacy = pair_of(tmp_path, LOTFLOW_WEBHOOK_AUTH="legacy-bearer")
        assert probe_pair(live(legacy, producer=producer)) == []
        assert (
            kinds(probe_pair(live(pair_of(tmp_path), producer=producer)))
            == ["delivery-refused"] * 3
        )


def test_a_buyer_running_with_another_key_refuses_the_producers_key(tmp_path: Path) -> None:
    with serving(tmp_path, "buyer", BUYER, PRODUCER_API_KEY=OTHER_KEY) as buyer:
        [finding] = probe_pair(live(pair_of(tmp_path), buyer=buyer))
    assert finding.kind == "api-key-refused"
    assert "/api/lots/external" in finding.problem
    assert "401" in finding.problem
    assert (finding.buyer, finding.producer) == (("PRODUCER_API_KEY",), ("BUYER_API_KEY",))


def test_a_portal_that_is_not_running_is_unreachable(tmp_path: Path) -> None:
    server = ServerThread(FastAPI()).start()
    url = server.url
    server.stop()
    found = probe_pair(live(pair_of(tmp_path), buyer=url, producer=url), timeout=2)
    assert kinds(found) == ["portal-unreachable", "portal-unreachable"]
    assert found[0].producer == ("NEXT_PUBLIC_BUYER_DASHBOARD_URL",)


def _partial_buyer() -> FastAPI:
    """A buyer that routes only the producers' lot list (and answers it for any key)."""
    app = FastAPI()

    @app.get("/api/lots/external")
    def lots() -> dict[str, object]:
        return {"lots": [], "count": 0}

    @app.get("/api/bids")  # the path exists, but not the operation (POST)
    def bids() -> dict[str, object]:
        return {}

    return app


def test_operations_the_portal_does_not_route_are_named(tmp_path: Path) -> None:
    with ServerThread(_partial_buyer()) as server:
        [finding] = probe_pair(live(pair_of(tmp_path), buyer=server.url))
    assert finding.kind == "operation-missing"
    assert "submitBid (POST /api/bids)" in finding.problem
    assert "/api/bids/000000000000000000000000/accept-counter" in finding.problem
    assert "listExternalLots" not in finding.problem


def test_a_probe_that_cannot_run_says_so(tmp_path: Path) -> None:
    with (
        serving(tmp_path, "buyer", BUYER) as buyer,
        serving(tmp_path, "producer", PRODUCER) as producer,
    ):
        pair = Pair(
            read_env_file(BUYER),
            read_env_file(
                edited(
                    PRODUCER, tmp_path / "p.env", BUYER_API_KEY=None, BUYER_WEBHOOK_SECRET="whsec_!"
                )
            ),
        )
        found = probe_pair(live(pair, buyer, producer))
    assert kinds(found) == ["probe-skipped"] * 3  # the key; bids and contracts
    assert all(f.level.label == "info" for f in found)
