"""The database helper: transactions that commit or roll back, and writers that queue on SQLite."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from lotflow.db import Database, sqlite_url
from lotflow.errors import ConfigError

metadata = MetaData()
counters = Table(
    "counters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", Integer, nullable=False),
    Column("version", Integer, nullable=False),
)
parents = Table("parents", metadata, Column("id", String(24), primary_key=True))
children = Table(
    "children",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("parent_id", String(24), ForeignKey("parents.id"), nullable=False),
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(sqlite_url(tmp_path / "lotflow.sqlite3"))
    database.create_all(metadata)
    with database.write() as conn:
        conn.execute(insert(counters).values(id=1, value=0, version=1))
    yield database
    database.dispose()


def test_sqlite_url_names_the_file(tmp_path: Path) -> None:
    assert sqlite_url(tmp_path / "x.db") == f"sqlite:///{tmp_path / 'x.db'}"


def _increment(db: Database) -> bool:
    """Read-modify-write with a version-conditional update; False when another writer won."""
    with db.write() as conn:
        value, version = conn.execute(select(counters.c.value, counters.c.version)).one()
        result = conn.execute(
            update(counters)
            .where(counters.c.id == 1, counters.c.version == version)
            .values(value=value + 1, version=version + 1)
        )
        return result.rowcount == 1


def test_concurrent_writers_lose_no_updates_and_never_see_database_is_locked(db: Database) -> None:
    threads, rounds = 8, 25
    conflicts: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer() -> None:
        start.wait()
        try:
            for _ in range(rounds):
                while not _increment(db):
                    conflicts.append(1)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            failures.append(exc)

    workers = [threading.Thread(target=writer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert conflicts == []  # BEGIN IMMEDIATE: no other writer between the read and the update
    with db.read() as conn:
        assert conn.execute(select(counters.c.value, counters.c.version)).one() == (200, 201)


def test_a_write_block_that_raises_changes_nothing(db: Database) -> None:
    def failing_write() -> None:
        with db.write() as conn:
            conn.execute(update(counters).values(value=99))
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        failing_write()
    with db.read() as conn:
        assert conn.execute(select(counters.c.value)).scalar_one() == 0


def test_sqlite_runs_in_wal_mode_with_foreign_keys_enforced(db: Database) -> None:
    with db.read() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    with pytest.raises(IntegrityError), db.write() as conn:
        conn.execute(insert(children).values(id=1, parent_id="missing"))


def test_a_reader_sees_only_committed_data(db: Database) -> None:
    with db.write() as writer:
        writer.execute(update(counters).values(value=5))
        with db.read() as reader:
            assert reader.execute(select(counters.c.value)).scalar_one() == 0
    with db.read() as reader:
        assert reader.execute(select(counters.c.value)).scalar_one() == 5


@pytest.mark.parametrize(
    "url", ["postgresql://u:p@db.example/lotflow", "postgres://u:p@db.example/lotflow"]
)
def test_postgresql_urls_use_psycopg_3(url: str) -> None:
    database = Database(url)  # no connection is made until one is used
    assert database.engine.dialect.name == "postgresql"
    assert database.engine.dialect.driver == "psycopg"
    assert "p@" not in repr(database)


def test_a_malformed_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a SQLAlchemy URL"):
        Database("not a url")


# ---------------------------------------------------------------------------------- change counter


def test_a_change_counter_moves_with_every_commit_to_its_tables_by_anyone(
    db: Database, tmp_path: Path
) -> None:
    import sqlite3

    assert db.change_counter("parents") is None  # not set up yet
    db.count_changes("parents", parents, children)
    db.count_changes("parents", parents, children)  # idempotent: set up again at every start
    first = db.change_counter("parents")
    assert first == 0
    with db.write() as conn:
        conn.execute(update(counters).values(value=1))  # not a counted table
    assert db.change_counter("parents") == first
    with db.write() as conn:
        conn.execute(insert(parents).values(id="p1"))
        conn.execute(insert(children).values(id=1, parent_id="p1"))
    after_own = db.change_counter("parents")
    assert after_own == 2  # one per changed row
    with db.write() as conn:
        conn.execute(insert(parents).values(id="p2"))
        assert db.change_counter("parents") == after_own  # not committed yet
    assert db.change_counter("parents") == after_own + 1
    other = sqlite3.connect(tmp_path / "lotflow.sqlite3")  # as another process would
    with other:
        other.execute("DELETE FROM children")
    other.close()
    assert db.change_counter("parents") == after_own + 2  # the trigger counts their delete


def test_there_are_no_change_counters_in_an_in_memory_database() -> None:
    """(PostgreSQL keeps them too: tests/reference/buyer/test_answers.py runs on it.)"""
    memory = Database("sqlite://")
    memory.create_all(metadata)
    memory.count_changes("parents", parents)
    assert memory.change_counter("parents") is None


def test_change_counter_names_are_checked(db: Database) -> None:
    with pytest.raises(ValueError, match="not 'x; DROP'"):
        db.count_changes("x; DROP", parents)


# ---------------------------------------------------------------------------------- prepared


def test_prepared_statements_insert_read_and_update(db: Database) -> None:
    from sqlalchemy import bindparam

    from lotflow.db import Prepared

    add = Prepared(insert(counters), column_keys=["id", "value", "version"])
    get = Prepared(select(counters.c.value).where(counters.c.id == bindparam("id")))
    bump = Prepared(
        update(counters)
        .where(counters.c.id == bindparam("which"), counters.c.version == bindparam("seen"))
        .values(value=bindparam("new_value"), version=bindparam("new_version"))
    )
    with db.write() as conn:
        assert add.rowcount(conn, {"id": 2, "value": 7, "version": 1}) == 1
        assert get.first(conn, {"id": 2}) == (7,)
        assert get.first(conn, {"id": 3}) is None
        assert bump.rowcount(conn, {"which": 2, "seen": 1, "new_value": 8, "new_version": 2}) == 1
        assert bump.rowcount(conn, {"which": 2, "seen": 1, "new_value": 9, "new_version": 2}) == 0
    with db.read() as conn:
        assert conn.execute(select(counters.c.value).where(counters.c.id == 2)).scalar_one() == 8


def test_prepared_statements_convert_parameters_and_raise_sqlalchemy_errors(db: Database) -> None:
    from sqlalchemy import Boolean, bindparam

    from lotflow.db import Prepared

    flags = Table(
        "flags", MetaData(), Column("id", Integer, primary_key=True), Column("on", Boolean)
    )
    flags.create(db.engine)
    add = Prepared(insert(flags), column_keys=["id", "on"])
    with db.write() as conn:
        add.rowcount(conn, {"id": 1, "on": True})
        assert conn.execute(select(flags.c.on)).scalar_one() is True
        with pytest.raises(IntegrityError):
            add.rowcount(conn, {"id": 1, "on": False})
    with pytest.raises(ValueError, match="expanding"), db.read() as conn:
        Prepared(select(flags.c.id).where(flags.c.id.in_(bindparam("ids", expanding=True)))).first(
            conn, {"ids": [1]}
        )


# ---------------------------------------------------------------------------------- group commit


def _value(db: Database, counter_id: int = 1) -> int | None:
    with db.read() as conn:
        row = conn.execute(select(counters.c.value).where(counters.c.id == counter_id)).first()
    return None if row is None else int(row[0])


def _insert_counter(db: Database, counter_id: int, fail: bool) -> None:
    with db.write() as conn:
        conn.execute(insert(counters).values(id=counter_id, value=counter_id, version=1))
        if fail:
            raise RuntimeError("this request failed")


async def _member_writes(db: Database, counter_id: int, fail: bool = False) -> Any:
    """One request's worth of writing through inline_writes; returns the member."""
    with db.inline_writes() as member:
        assert member is not None
        with contextlib.suppress(RuntimeError):
            _insert_counter(db, counter_id, fail)
    return member


@pytest.mark.anyio
async def test_writers_of_one_loop_turn_share_one_commit_that_each_awaits(db: Database) -> None:
    first = await _member_writes(db, 2)
    second = await _member_writes(db, 3)
    assert first.group is second.group  # the same turn of the loop: one transaction
    assert (_value(db, 2), _value(db, 3)) == (None, None)  # nothing committed yet
    await first.committed()
    await second.committed()
    assert (_value(db, 2), _value(db, 3)) == (2, 3)
    later = await _member_writes(db, 4)
    assert later.group is not first.group  # the next turn opens a new group
    await later.committed()
    assert _value(db, 4) == 4


@pytest.mark.anyio
async def test_a_failing_writer_in_a_group_rolls_back_only_its_own_changes(db: Database) -> None:
    good = await _member_writes(db, 2)
    bad = await _member_writes(db, 3, fail=True)
    also_good = await _member_writes(db, 4)
    for member in (good, bad, also_good):
        await member.committed()
    assert (_value(db, 2), _value(db, 3), _value(db, 4)) == (2, None, 4)


@pytest.mark.anyio
async def test_a_failed_group_commit_fails_every_member_and_stores_nothing(db: Database) -> None:
    with db.inline_writes() as member:
        assert member is not None
        with db.write() as conn:
            conn.execute(text("PRAGMA defer_foreign_keys = ON"))  # checked at COMMIT instead
            conn.execute(insert(children).values(id=1, parent_id="missing"))
    other = await _member_writes(db, 2)
    called: list[str] = []
    with db.inline_writes() as third:
        assert third is not None
        with db.write():
            db.after_commit(lambda: called.append("after"))
    for waiting in (member, other, third):
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            await waiting.committed()
    assert _value(db, 2) is None
    assert called == []
    again = await _member_writes(db, 5)  # the database is usable again
    await again.committed()
    assert _value(db, 5) == 5


@pytest.mark.anyio
async def test_reads_after_writing_see_the_members_own_writes_and_callbacks_wait(
    db: Database,
) -> None:
    called: list[int | None] = []
    with db.inline_writes() as member:
        assert member is not None
        with db.read() as conn:  # nothing written yet: an ordinary read
            assert conn.execute(select(counters.c.value)).scalar_one() == 0
        with db.write() as conn:
            conn.execute(update(counters).values(value=41))
            db.after_commit(lambda: called.append(_value(db)))
        with db.read() as conn:
            assert conn.execute(select(counters.c.value)).scalar_one() == 41
    assert called == []
    await member.committed()
    assert called == [41]


def test_outside_an_event_loop_there_is_no_group(db: Database) -> None:
    with db.inline_writes() as member:
        assert member is None
        with db.write() as conn:  # an ordinary transaction
            conn.execute(update(counters).values(value=3))
    assert _value(db) == 3


@pytest.mark.anyio
async def test_no_group_while_another_thread_writes(db: Database) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with db.write():
            entered.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert entered.wait(timeout=30)
        with db.inline_writes() as member:
            assert member is None
    finally:
        release.set()
        thread.join()
    with db.inline_writes() as member:
        assert member is not None


@pytest.mark.anyio
async def test_a_thread_waiting_to_write_gets_the_lock_before_any_new_group(db: Database) -> None:
    import time

    done = threading.Event()

    def thread_writer() -> None:
        with db.write() as conn:
            conn.execute(update(counters).where(counters.c.id == 1).values(value=7))
        done.set()

    thread = threading.Thread(target=thread_writer)
    with db.inline_writes() as holding:
        assert holding is not None
        _insert_counter(db, 2, fail=False)  # the open group holds the writer lock
        thread.start()
        deadline = time.monotonic() + 30
        while db.waiting_writers == 0:  # until the thread is queued behind the group
            assert time.monotonic() < deadline, "the writer thread never queued"
            time.sleep(0.001)
        assert not done.is_set()
        with db.inline_writes() as member:
            assert member is None  # no new group while a thread waits: it goes next
    await holding.committed()
    thread.join(timeout=30)
    assert done.is_set()
    assert (_value(db, 1), _value(db, 2)) == (7, 2)


# ---------------------------------------------------------------- a database that cannot be used


def _tables() -> MetaData:
    metadata = MetaData()
    Table("things", metadata, Column("id", Integer, primary_key=True))
    return metadata


def test_a_file_in_a_missing_folder_is_named_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "no-such-folder" / "buyer.sqlite3"
    with pytest.raises(ConfigError, match="folder that does not exist") as refused:
        Database(sqlite_url(path)).create_all(_tables())
    assert str(path.parent) in str(refused.value)


def test_a_file_that_is_not_a_database_is_named_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "buyer.sqlite3"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    with pytest.raises(ConfigError, match="not a database") as refused:
        Database(sqlite_url(path)).create_all(_tables())
    assert str(path) in str(refused.value)
    assert "move it aside" in str(refused.value)


def test_a_file_with_corrupted_pages_fails_its_integrity_check_at_start(tmp_path: Path) -> None:
    path = tmp_path / "buyer.sqlite3"
    db = Database(sqlite_url(path))
    db.create_all(_tables())
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE filler (x TEXT)")
        conn.exec_driver_sql("CREATE INDEX filler_x ON filler (x)")
        for n in range(400):
            conn.exec_driver_sql("INSERT INTO filler VALUES (?)", (f"row {n} " * 20,))
    db.dispose()
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 3 : page * 3 + 200] = b"\xff" * 200  # scribble over a page of the table
    path.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="integrity check") as refused:
        Database(sqlite_url(path)).create_all(_tables())
    assert str(path) in str(refused.value)


def test_an_unreachable_server_is_named_without_its_password() -> None:
    url = "postgresql://lotflow:s3cret-password@127.0.0.1:1/lotflow"
    with pytest.raises(ConfigError, match="Cannot use the database") as refused:
        Database(url).create_all(_tables())
    assert "s3cret-password" not in str(refused.value)
    assert "127.0.0.1:1" in str(refused.value)
