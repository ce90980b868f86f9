"""Group commit: the short write transactions of one turn of the event loop share one SQLite
transaction, each in a savepoint of its own, committed once on the loop's next turn (see
:meth:`lotflow.db.Database.inline_writes`)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine

__all__ = ["WRITE_OPTION", "GroupMember", "Writers", "inline_writes", "member_here"]

log = logging.getLogger("lotflow.db")

WRITE_OPTION = "lotflow_write"
"""The execution option that makes a SQLite transaction start with ``BEGIN IMMEDIATE``."""


class Writers:
    """One process's writers of one SQLite database: the lock they queue on, how many threads
    wait for it or hold it, and the group that is open (if any)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = threading.RLock()
        self.group: _Group | None = None
        self._waiting = 0
        self._waiting_lock = threading.Lock()

    @property
    def waiting(self) -> int:
        """Threads queued for the writer lock or holding it through :meth:`queued`."""
        return self._waiting

    @contextmanager
    def queued(self) -> Iterator[threading.RLock]:
        """The writer lock, with this thread counted while it waits for it and holds it (so
        that group commits stop taking the lock over and over while a thread waits)."""
        with self._waiting_lock:
            self._waiting += 1
        try:
            with self.lock:
                yield self.lock
        finally:
            with self._waiting_lock:
                self._waiting -= 1

    def join(self, loop: asyncio.AbstractEventLoop) -> _Group:
        """The loop's open group, opened if there is none."""
        group = self.group
        if group is None or group.loop is not loop:
            group = self.group = _Group(self, loop)
        return group


_MEMBER: ContextVar[GroupMember | None] = ContextVar("lotflow_db_group_member", default=None)


def member_here() -> GroupMember | None:
    """The group member of the running code, if it runs on that member's thread."""
    member = _MEMBER.get()
    return member if member is not None and member.thread == threading.get_ident() else None


@contextmanager
def inline_writes(writers: Writers | None) -> Iterator[GroupMember | None]:
    """A group member for the block, or None when group commit does not apply (see
    :meth:`lotflow.db.Database.inline_writes`)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if writers is None or loop is None or writers.waiting or not writers.lock.acquire(False):
        yield None
        return
    member = GroupMember(writers, loop)
    token = _MEMBER.set(member)
    try:
        yield member
    finally:
        _MEMBER.reset(token)
        writers.lock.release()


class GroupMember:
    """One caller's share of a group commit (see :meth:`lotflow.db.Database.inline_writes`)."""

    def __init__(self, writers: Writers, loop: asyncio.AbstractEventLoop) -> None:
        self.writers = writers
        self.loop = loop
        self.thread = threading.get_ident()
        self.group: _Group | None = None

    @contextmanager
    def unit(self) -> Iterator[Connection]:
        """One write block: a savepoint of the group's transaction."""
        if self.group is None:
            self.group = self.writers.join(self.loop)
        group = self.group
        name = group.savepoint()
        driver = group.driver
        driver.execute(f"SAVEPOINT {name}")
        try:
            yield group.conn
        except BaseException:
            driver.execute(f"ROLLBACK TO {name}")
            driver.execute(f"RELEASE {name}")
            raise
        driver.execute(f"RELEASE {name}")

    def after_commit(self, callback: Callable[[], None]) -> bool:
        """Queue ``callback`` for the group's commit; False when this member has not written."""
        if self.group is None:
            return False
        self.group.after.append(callback)
        return True

    async def committed(self) -> None:
        """Return once the group this caller wrote in has committed (at once if it wrote
        nothing); raise what the commit raised."""
        if self.group is not None:
            await asyncio.shield(self.group.done)


class _Group:
    """The shared transaction of one turn of the event loop; commits on the next turn."""

    def __init__(self, writers: Writers, loop: asyncio.AbstractEventLoop) -> None:
        writers.lock.acquire()  # reentrant: the member opening the group already holds it
        self.writers = writers
        self.loop = loop
        self.after: list[Callable[[], None]] = []
        self.done: asyncio.Future[None] = loop.create_future()
        self.savepoints = 0
        try:
            self.conn = writers.engine.connect()
            self.conn.execution_options(**{WRITE_OPTION: True})
            self.transaction = self.conn.begin()
        except BaseException:
            writers.lock.release()
            raise
        driver = self.conn.connection.driver_connection
        assert driver is not None
        self.driver: Any = driver
        loop.call_soon(self.commit)

    def savepoint(self) -> str:
        self.savepoints += 1
        return f"lotflow_{self.savepoints}"

    def commit(self) -> None:
        writers = self.writers
        if writers.group is self:
            writers.group = None
        try:
            self.transaction.commit()
        except Exception as exc:  # every member learns it from committed()
            log.exception("A group commit of %d write(s) failed", self.savepoints)
            self.conn.invalidate()  # still inside the failed transaction: never reuse it
            self.done.set_exception(exc)
            self.done.exception()  # retrieved here too: no "never retrieved" warning if no waiter
        else:
            self.done.set_result(None)
            self._run_after()
        finally:
            self.conn.close()
            writers.lock.release()

    def _run_after(self) -> None:
        for callback in self.after:
            try:
                callback()
            except Exception:
                log.exception("An after-commit callback failed")
