"""Reporters turn engine events into output. Each has ``handle(event)`` and ``close()``."""

from __future__ import annotations

from typing import Protocol

from lotflow.engine.events import Event


class Reporter(Protocol):
    def handle(self, event: Event) -> None: ...

    def close(self) -> None: ...
