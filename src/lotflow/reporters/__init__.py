"""Reporters turn engine events into output; they know nothing of HTTP, only of events.

Each has ``handle(event)``, called for every event in order, and ``close()``, called once at the
end (also after an interrupted run), when file reporters write their files:

- :class:`~lotflow.reporters.terminal.TerminalReporter`: live narration (plain text in CI logs)
- :class:`~lotflow.reporters.junit.JUnitReporter`: JUnit XML, one test case per step
- :class:`~lotflow.reporters.jsonreport.JsonReporter`: the whole result as JSON
- :class:`~lotflow.reporters.story.StoryReporter`: Markdown + HTML story with sequence diagrams
"""

from __future__ import annotations

from typing import Protocol

from lotflow.engine.events import Event


class Reporter(Protocol):
    """What the CLI hands events to."""

    def handle(self, event: Event) -> None:
        """Take one event."""

    def close(self) -> None:
        """The run is over: flush, write files, stop live output."""
