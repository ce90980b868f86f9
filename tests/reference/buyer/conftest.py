"""Fixtures of the buyer tests: a portal in-process on a FakeClock, with a recording receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from lotflow.clock import FakeClock
from tests.reference.buyer.portal import (
    START,
    Portal,
    Receiver,
    drop_database,
    drop_left_over_databases,
    make_app,
)


@pytest.fixture(autouse=True, scope="session")
def _no_database_left() -> Iterator[None]:
    yield
    drop_left_over_databases()


@pytest.fixture(autouse=True)
def _own_database(tmp_path: Path) -> Iterator[None]:
    """Each test's PostgreSQL database is dropped after it (SQLite's goes with tmp_path)."""
    yield
    drop_database(tmp_path)


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    """The buyer portal, its FakeClock (at START) and a receiver for its webhooks."""
    clock = FakeClock(START)
    app = make_app(tmp_path, clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://buyer.test") as client:
        yield Portal(app, clock, Receiver(), client)
    app.state.buyer.db.dispose()
