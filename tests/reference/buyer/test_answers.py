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
from tests.reference.buyer.portal import (
    API_KEY,
    POSTGRES,
    START,
    Portal,
    Receiver,
    database_url,
    make_app,
)


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


class _Counter:
    """A database whose ``lots`` change counter the test moves."""

    def __init__(self) -> None:
        self.value = 1

    def change_counter(self, _name: str) -> int:
        return self.value


def test_an_answer_whose_query_began_before_a_change_is_served_but_not_kept() -> None:
    """On PostgreSQL the reads run in threads at once: a read that took its label before a
    change may end after a later read has moved the cache on; its older answer must not be
    kept for the later state (it overwrote the current answer)."""
    db = _Counter()
    cache = AnswerCache(db)  # type: ignore[arg-type] - only its change counter is asked for

    def slow_read() -> bytes:  # labelled 1; meanwhile a lot changes and a read sees it
        db.value = 2
        assert cache.answer("page", lambda: b"after the change") == b"after the change"
        return b"before the change"

    assert cache.answer("page", slow_read) == b"before the change"
    assert cache.answer("page", lambda: b"queried again") == b"after the change"
    assert cache.made == 2  # the last read came from the cache


@pytest.mark.anyio
async def test_the_change_counter_moves_with_each_commit_to_the_lots_by_anyone(
    portal: Portal,
) -> None:
    """The counter behind the answer cache, on this run's database (SQLite, or PostgreSQL with
    LOTFLOW_TEST_POSTGRES_URL): set up by the portal, moved by every committed change to the
    lots (its own, another connection's), not by an uncommitted one or by other tables."""
    from lotflow.reference.buyer.tables import lots, notifications
    from sqlalchemy import delete, update

    from lotflow.db import Database

    db = portal.ctx.db
    start = db.change_counter("lots")
    assert start is not None
    with db.write() as conn:
        conn.execute(delete(notifications))
    assert db.change_counter("lots") == start
    lot = await portal.published_lot()
    published = db.change_counter("lots")
    assert published is not None
    assert published > start
    with db.write() as conn:
        conn.execute(update(lots).where(lots.c.id == lot["_id"]).values(version=lots.c.version))
        assert db.change_counter("lots") == published  # not committed yet
    updated = db.change_counter("lots")
    assert updated is not None
    assert updated > published
    other = Database(db.url.render_as_string(hide_password=False))  # as another process would
    try:
        with other.write() as conn:
            conn.execute(delete(lots).where(lots.c.id == lot["_id"]))
    finally:
        other.dispose()
    deleted = db.change_counter("lots")
    assert deleted is not None
    assert deleted > updated


@pytest.mark.skipif(not POSTGRES, reason="a PostgreSQL role: .ci/postgres runs it")
def test_a_role_that_may_not_create_triggers_serves_uncached_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A deployment's role that may read and write the tables but not create in the schema:
    the portal starts and answers, uncached, and says why (it must not fail to start, nor read
    a counter that nothing moves)."""
    import psycopg
    from lotflow.reference.buyer.tables import metadata
    from sqlalchemy.engine import make_url

    from lotflow.db import Database

    url = database_url(tmp_path)
    admin = Database(url)
    admin.create_all(metadata)  # the tables exist, made by the admin
    admin.dispose()
    role = "lotflow_limited_" + url.rsplit("_", 1)[-1]
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'limited-pw'")
        conn.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        conn.execute(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role}")
    limited = make_url(url).set(username=role, password="limited-pw")
    limited_url = limited.render_as_string(hide_password=False)
    try:
        app = make_app(tmp_path, FakeClock(START), LOTFLOW_DATABASE_URL=limited_url)
        assert app.state.buyer.db.change_counter("lots") is None
        assert "may not create" in caplog.text
        app.state.buyer.db.dispose()
    finally:
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
