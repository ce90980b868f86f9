"""The database helper: transactions that commit or roll back, and writers that queue on SQLite."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

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
