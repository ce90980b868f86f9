"""Identifiers: entity ids like today's portals, webhook event ids like Standard Webhooks.

An entity id is 24 lowercase hex characters laid out like a MongoDB ObjectId: 4 bytes of Unix
seconds, 5 bytes chosen at random once per process, and a 3-byte counter that starts at a random
value. Ids made by one process never repeat (until 2**24 ids within one second); ids of different
processes differ by their random part.

``restart(seed)`` makes the ids that follow reproducible (the same sequence for the same seed),
for runs that must replay exactly, such as a fuzzer shrinking a failure; never in production.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import secrets
import string
import threading

from lotflow.clock import SystemClock

__all__ = ["is_object_id", "new_event_id", "new_object_id", "restart"]

_OBJECT_ID = re.compile(r"[0-9a-f]{24}")
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_EVENT_ID_LENGTH = 27
_EVENT_ID_SPACE = len(_BASE62) ** _EVENT_ID_LENGTH


class _ProcessPart:
    """The per-process random bytes and counter, made lazily and again after a fork."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = -1
        self._random = ""
        self._counter = itertools.count()

    def next(self) -> tuple[str, int]:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._random = secrets.token_hex(5)
                    self._counter = itertools.count(secrets.randbelow(1 << 24))
                    self._pid = os.getpid()
        return self._random, next(self._counter) & 0xFFFFFF


_process = _ProcessPart()
_replay: random.Random | None = None  # set by restart(): event ids from a seeded generator


def restart(seed: int | None) -> None:
    """From now on, ids in this process follow a sequence fixed by ``seed``; ``None`` goes back
    to random ids (a fresh random part and counter)."""
    global _replay  # the process-wide id source, like _process
    with _process._lock:
        if seed is None:
            _replay = None
            _process._pid = -1  # the next id draws a fresh random part and counter
            return
        _replay = random.Random(seed)  # reproducible on purpose: not a secret
        _process._random = f"{_replay.getrandbits(40):010x}"
        _process._counter = itertools.count()
        _process._pid = os.getpid()


def new_object_id(seconds: int | None = None) -> str:
    """A new 24-hex entity id; ``seconds`` (Unix time) defaults to the system clock's."""
    stamp = int(SystemClock().now().timestamp()) if seconds is None else seconds
    random_part, count = _process.next()
    return f"{stamp & 0xFFFFFFFF:08x}{random_part}{count:06x}"


def new_event_id() -> str:
    """A new webhook event id: ``msg_`` and 27 base62 characters from ``secrets``."""
    replay = _replay
    number = replay.randrange(_EVENT_ID_SPACE) if replay else secrets.randbelow(_EVENT_ID_SPACE)
    chars = []
    for _ in range(_EVENT_ID_LENGTH):
        number, digit = divmod(number, len(_BASE62))
        chars.append(_BASE62[digit])
    return "msg_" + "".join(chars)


def is_object_id(value: object) -> bool:
    """Whether ``value`` is a string of exactly 24 lowercase hex characters."""
    return isinstance(value, str) and _OBJECT_ID.fullmatch(value) is not None
