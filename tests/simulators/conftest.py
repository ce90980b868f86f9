"""Fixtures of the simulator tests: each simulator facing the opposite reference portal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lotflow.simulators import BuyerSimulator, ProducerSimulator

from lotflow.db import sqlite_url
from lotflow.engine.runner import Parties
from lotflow.serving import ServerThread
from lotflow.stack import PRODUCER_ORGS, Credentials


def producer_env(
    workdir: Path, buyer_url: str, c: Credentials, secret: str, api_key: str
) -> dict[str, str]:
    operators = [
        {"orgId": c.producer_orgs[a], "name": n, "token": c.producer_tokens[a]}
        for a, n in PRODUCER_ORGS.items()
    ]
    return {
        "LOTFLOW_DATABASE_URL": sqlite_url(workdir / "producer.sqlite3"),
        "NEXT_PUBLIC_BUYER_DASHBOARD_URL": buyer_url,
        "BUYER_API_KEY": api_key,
        "BUYER_WEBHOOK_SECRET": secret,
        "LOTFLOW_PRODUCER_OPERATORS": json.dumps(operators),
    }


def buyer_env(workdir: Path, producer_url: str, c: Credentials) -> dict[str, str]:
    return {
        "LOTFLOW_DATABASE_URL": sqlite_url(workdir / "buyer.sqlite3"),
        "PRODUCER_API_KEY": c.api_key,
        "PRODUCER_DASHBOARD_WEBHOOK_URL": f"{producer_url}/api/webhooks/lots",
        "PRODUCER_DASHBOARD_WEBHOOK_SECRET": c.webhook_secret,
        "LOTFLOW_BUYER_OPERATORS": json.dumps(
            [{"orgId": c.buyer_org, "name": "Buyer", "token": c.buyer_token}]
        ),
        "LOTFLOW_WEBHOOK_BACKOFF_BASE": "0.2",
        "LOTFLOW_WEBHOOK_BACKOFF_CAP": "2",
    }


class BuyerSide:
    """The buyer simulator facing the reference producer."""

    def __init__(self, sim: BuyerSimulator, producer_url: str, credentials: Credentials) -> None:
        self.sim, self.producer_url, self.credentials = sim, producer_url, credentials

    def parties(self) -> Parties:
        c = self.credentials
        return Parties(
            self.sim.url,
            self.producer_url,
            self.sim.operator_token,
            self.sim.api_key,
            dict(c.producer_tokens),
            self.sim,
        )


class ProducerSide:
    """The producer simulator facing the reference buyer."""

    def __init__(self, sim: ProducerSimulator, buyer_url: str, credentials: Credentials) -> None:
        self.sim, self.buyer_url, self.credentials = sim, buyer_url, credentials

    def parties(self) -> Parties:
        c = self.credentials
        return Parties(
            self.buyer_url,
            self.sim.url,
            c.buyer_token,
            c.api_key,
            dict(self.sim.producer_tokens),
            self.sim,
        )


@pytest.fixture(scope="module")
def buyer_side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuyerSide]:
    """Buyer simulator ↔ reference producer, on real sockets."""
    from lotflow.reference.producer.app import create_app
    from lotflow.reference.producer.settings import ProducerSettings

    workdir, c = tmp_path_factory.mktemp("buyer-side"), Credentials()
    with BuyerSimulator(
        secret=c.webhook_secret, api_key=c.api_key, backoff_base=0.2, backoff_cap=2
    ) as sim:
        env = producer_env(workdir, sim.url, c, sim.secret, sim.api_key)
        with ServerThread(create_app(ProducerSettings.from_env(env))) as producer:
            sim.producer_url = producer.url
            yield BuyerSide(sim, producer.url, c)


@pytest.fixture(scope="module")
def producer_side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProducerSide]:
    """Reference buyer ↔ producer simulator, on real sockets."""
    from lotflow.reference.buyer.app import create_app
    from lotflow.reference.buyer.settings import BuyerSettings

    workdir, c = tmp_path_factory.mktemp("producer-side"), Credentials()
    with (
        ProducerSimulator(api_key=c.api_key, secret=c.webhook_secret) as sim,
        ServerThread(create_app(BuyerSettings.from_env(buyer_env(workdir, sim.url, c)))) as buyer,
    ):
        sim.buyer_url = buyer.url
        yield ProducerSide(sim, buyer.url, c)
