"""Failed authentications counted per client, so that guessing keys online is slowed to a crawl.

Each client (its address, as the server sees it) may fail authentication ``limit`` times within
``window`` seconds; past that, every authenticated request from it is answered 429
``too_many_failures`` with ``Retry-After`` until its oldest counted failure leaves the window,
right credentials included (a guesser cannot tell a right guess by its answer). Successful
requests are never counted. Time comes from the injected clock's monotonic reading. At most
``clients`` addresses are tracked; the least recently failing one is forgotten first, so memory
stays bounded whatever a flood of addresses does.

Behind a reverse proxy every client has the proxy's address: raise the limit there (or turn it
off with a limit of 0) and let the proxy limit per client.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque

from lotflow.clock import Clock
from lotflow.problems import Problem

__all__ = ["FailureThrottle"]


class FailureThrottle:
    """Counts authentication failures per client within a sliding window (see the module)."""

    def __init__(self, limit: int, window: float, clock: Clock, *, clients: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.clients = clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self.refused = 0  # requests answered 429 so far

    @property
    def tracked(self) -> int:
        """How many client addresses have failures on record."""
        return len(self._failures)

    def check(self, client: str) -> None:
        """Raise the 429 problem when ``client`` has failed ``limit`` times in the window."""
        if self.limit <= 0:
            return
        failures = self._recent(client)
        if failures is not None and len(failures) >= self.limit:
            self.refused += 1
            wait = max(1, math.ceil(failures[0] + self.window - self.clock.monotonic()))
            raise Problem(
                429,
                "Too many failed authentications",
                f"{len(failures)} requests from your address failed authentication in the last "
                f"{self.window:g} s; try again in {wait} s with valid credentials.",
                "too_many_failures",
                headers={"Retry-After": str(wait)},
            )

    def failed(self, client: str) -> None:
        """Count one failed authentication of ``client``."""
        if self.limit <= 0:
            return
        failures = self._recent(client)
        if failures is None:
            failures = self._failures[client] = deque()
            if len(self._failures) > self.clients:
                self._failures.popitem(last=False)
        failures.append(self.clock.monotonic())
        self._failures.move_to_end(client)

    def _recent(self, client: str) -> deque[float] | None:
        """The client's failures still inside the window (older ones dropped), if any."""
        failures = self._failures.get(client)
        if failures is None:
            return None
        horizon = self.clock.monotonic() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures
