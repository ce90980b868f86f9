"""Where a simulator's own sends go: the configured origin, replaced by a target set later."""

from __future__ import annotations

import httpx

__all__ = ["retarget"]


def retarget(url: httpx.URL, target: str) -> httpx.URL:
    """``url`` with the scheme, host and port of ``target`` (unchanged when it is empty), so a
    portal's URL can be given after the simulator that calls it has started."""
    if not target:
        return url
    base = httpx.URL(target)
    return url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
