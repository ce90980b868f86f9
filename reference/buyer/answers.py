"""Encoded answers of the producers' marketplace reads, reused while the lots are unchanged.

Producer portals poll ``listExternalLots`` and ``getExternalLot`` with the same queries over and
over. An answer is labelled with the ``lots`` change counter read before its query ran
(:meth:`lotflow.db.Database.change_counter`; triggers in the database move it on every committed
change to ``lots`` or ``lot_standards``, by this process, another one or a hand-written
statement); while the counter still reads the same, the answer is what the query would return
again, so the very same bytes are served. Bids, notifications and webhook bookkeeping leave it
alone; any lot change empties the cache. Where the database keeps no counter (in-memory SQLite,
a server other than PostgreSQL, a role that may not create triggers), or with
``LOTFLOW_ANSWER_CACHE=0``, nothing is cached.

Serving the same bytes object also lets the response check skip bodies it has already validated
(see ``lotflow.http``). So even where nothing is cached, an answer made by querying the tables
that is byte for byte the one served last for its key is served as that very object (it is
*interned*): the query runs every time, but an unchanged page is not parsed and validated again
(a page of 50 lots: two thirds of a cold read's cost). The cache is used from the event loop
on SQLite and from worker threads elsewhere (PostgreSQL), so its dictionaries are changed under
a lock; an answer is kept only in the generation of its own label (see :meth:`answer`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from lotflow.db import Database

__all__ = ["COUNTER", "AnswerCache"]

COUNTER = "lots"  # the change counter of lots and lot_standards (set up by create_app)


class AnswerCache:
    """At most ``size`` answers by key, all from one state of the lots."""

    def __init__(self, db: Database, size: int = 64, *, enabled: bool = True) -> None:
        self.db = db
        self.size = size
        self.enabled = enabled
        self.version: int | None = None
        self.answers: OrderedDict[Hashable, bytes] = OrderedDict()
        self.served: OrderedDict[Hashable, bytes] = OrderedDict()  # the last answer per key
        self.made = 0  # answers made by querying the tables (the rest came from the cache)
        self._lock = threading.Lock()  # answers are made in worker threads on PostgreSQL

    def answer(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """The cached answer for ``key`` if the lots have not changed since it was made,
        else ``make()`` (which queries the database), kept for next time.

        An answer is kept only in the generation of the counter value read before its query
        (its label), so it is never served for a later state: on PostgreSQL, threads answer at
        once, and one that read the counter before another's commit may finish its query after
        the other has moved the cache on; its answer is then served but not kept."""
        version = self.db.change_counter(COUNTER) if self.enabled else None
        if version is None:
            return self._made(key, make)
        with self._lock:
            if version != self.version:
                self.answers.clear()
                self.version = version
            found = self.answers.get(key)
            if found is not None:
                self.answers.move_to_end(key)
                return found
        made = self._made(key, make)
        with self._lock:
            if version == self.version:
                self.answers[key] = made
                if len(self.answers) > self.size:
                    self.answers.popitem(last=False)
        return made

    def _made(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        """``make()``, interned: the bytes served last for ``key`` when they are equal."""
        made = make()
        with self._lock:
            self.made += 1
            last = self.served.get(key)
            if last is not None and last == made:
                return last
            self.served[key] = made
            self.served.move_to_end(key)
            if len(self.served) > self.size:
                self.served.popitem(last=False)
        return made
