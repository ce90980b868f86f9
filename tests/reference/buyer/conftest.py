"""Fixtures of the buyer tests: a portal in-process on a FakeClock, with a recording receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from lotflow.clock import FakeClock
from tests.reference.buyer.portal import START, Portal, Receiver, make_app


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    """The buyer portal, its FakeClock (at START) and a receiver for its webhooks."""
    clock = FakeClock(START)
    app = make_app(tmp_path, clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://buyer.test") as client:
        yield Portal(app, clock, Receiver(), client)
    app.state.buyer.db.dispose()
