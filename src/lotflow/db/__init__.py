"""The database through SQLAlchemy Core: SQLite by default, any SQLAlchemy URL otherwise.

``Database.read()`` and ``Database.write()`` yield a connection inside a transaction that
commits when the block ends and rolls back when it raises. Nothing in the API is SQLite-only; a
``postgresql://`` URL uses psycopg 3 unchanged.

On SQLite the database runs in WAL mode (readers never wait for the writer), with a busy timeout
and foreign keys on, and ``write()`` starts its transaction with ``BEGIN IMMEDIATE``: writers
queue for the write lock at the start instead of failing with ``database is locked`` when a read
turns into a write halfway through. This is SQLAlchemy's documented pysqlite recipe: pysqlite's
own transaction handling is switched off and the ``begin`` event emits ``BEGIN`` itself
(:mod:`.database`, which also holds the process's writer lock).

Three helpers serve the hot paths of a server on SQLite: ``inline_writes()`` (group commit for
short write transactions run on the event loop, :mod:`.group`), :class:`Prepared` (statements
run straight on the driver's cursor, :mod:`.prepared`) and change counters
(``count_changes()``/``change_counter()``, :mod:`.counters`: a number that any committed change
to some tables moves, whoever makes it; caches of query results key on it).
"""

from __future__ import annotations

from lotflow.db.database import Database, sqlite_url
from lotflow.db.group import GroupMember
from lotflow.db.prepared import Prepared

__all__ = ["Database", "GroupMember", "Prepared", "sqlite_url"]
