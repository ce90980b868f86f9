"""Interned marketplace answers: without the answer cache every read still queries the tables,
and an unchanged page is served as the very bytes object served before (so the response check,
which remembers bodies that passed by identity, does not parse and validate it again); a
changed page is served as it now is."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from lotflow.reference.buyer.answers import AnswerCache

from lotflow.clock import FakeClock
from tests.reference.buyer.portal import API_KEY, START, Portal, Receiver, make_app


def test_an_answer_equal_to_the_last_one_served_for_its_key_is_that_object(
    tmp_path: Path,
) -> None:
    cache = AnswerCache(db=None, enabled=False)  # type: ignore[arg-type] - never asked for counters
    first = cache.answer("page", lambda: bytes(bytearray(b'{"lots":[],"count":0}')))
    again = cache.answer("page", lambda: bytes(bytearray(b'{"lots":[],"count":0}')))
    changed = cache.answer("page", lambda: b'{"lots":[{}],"count":1}')
    other_key = cache.answer("other", lambda: bytes(bytearray(b'{"lots":[],"count":0}')))
    assert again is first
    assert changed == b'{"lots":[{}],"count":1}'
    assert other_key is not first
    assert cache.made == 4  # made every time: nothing is cached


@pytest.mark.anyio
async def test_an_uncached_read_after_a_change_serves_the_change(tmp_path: Path) -> None:
    app = make_app(tmp_path, FakeClock(START), LOTFLOW_ANSWER_CACHE="0")
    asgi = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=asgi, base_url="http://buyer.test") as client:
        portal = Portal(app, FakeClock(START), Receiver(), client)
        producer = {"X-API-Key": API_KEY}
        await portal.published_lot(title="First")
        before = [await client.get("/api/lots/external", headers=producer) for _ in range(2)]
        await portal.published_lot(title="Second")
        after = await client.get("/api/lots/external", headers=producer)
    app.state.buyer.db.dispose()
    assert [r.json()["count"] for r in before] == [1, 1]
    assert before[0].content == before[1].content
    assert [lot["title"] for lot in after.json()["lots"]] == ["Second", "First"]
    assert app.state.buyer.answers.made == 3
