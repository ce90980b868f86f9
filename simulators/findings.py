"""Findings: every way a message broke the contract, as data, kept in order and shown live.

A :class:`Finding` names the rule it breaks (``request.body``, ``webhook.signature``, ...), the
operation or event, what the contract says, what was seen, who sent the message and the index of
the recorded exchange it came from. :class:`FindingLog` keeps them (thread-safe) and calls its
listeners as each one arrives, so that a CLI can print them live and a test can wait for one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["RULES", "Finding", "FindingLog", "Severity"]

Severity = Literal["violation", "deviation"]

RULES: dict[str, str] = {
    "request.operation": "the method and path name an operation of the spec",
    "request.parameters": "query and header parameters match their declared schemas",
    "request.content-type": "a request body is sent as application/json",
    "request.body": "a request body matches the operation's schema",
    "response.status": "the status is one the operation declares",
    "response.content-type": "the answer's media type is one declared for its status",
    "response.problem": "an error answer is application/problem+json (RFC 9457)",
    "response.body": "the answer's body matches the declared schema",
    "webhook.headers": "the three Standard Webhooks headers, present and well formed",
    "webhook.signature": "the Standard Webhooks signature verifies with the shared secret, in time",
    "webhook.legacy-auth": "signed webhooks (a static bearer: a deviation and a security finding)",
    "webhook.content-type": "a webhook body is sent as application/json",
    "webhook.payload": "the payload is JSON matching its event's schema",
    "webhook.event": "the event type is one the spec defines",
    "webhook.path": "the event is delivered to its receiver path",
    "webhook.id": "the webhook-id header equals the payload's eventId",
}
"""Every rule a simulator checks, with what the contract says (tests cover each one)."""


@dataclass(frozen=True)
class Finding:
    """One broken rule in one message."""

    rule: str
    subject: str  # an operationId or an event name
    expected: str
    observed: str
    sender: str  # "buyer" or "producer": the portal whose message broke the rule
    exchange: int = -1  # the index of the recorded exchange (-1: not recorded)
    severity: Severity = "violation"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the recording and the control surface use it)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """The inverse of :meth:`to_dict`."""
        return cls(**data)

    def line(self) -> str:
        """One line for a person: what broke, where, expected and seen."""
        label = "deviation" if self.severity == "deviation" else "finding"
        return (
            f"{label} [{self.rule}] {self.subject} (from the {self.sender}): "
            f"expected {self.expected}; saw {self.observed}"
        )


class FindingLog:
    """Findings in arrival order; listeners are called with each new one."""

    def __init__(self) -> None:
        self._items: list[Finding] = []
        self._listeners: list[Callable[[Finding], None]] = []
        self._lock = threading.Lock()

    def add(self, findings: Iterable[Finding]) -> None:
        """Keep ``findings`` and tell the listeners."""
        added = list(findings)
        with self._lock:
            self._items += added
            listeners = list(self._listeners)
        for finding in added:
            for listener in listeners:
                listener(finding)

    def listen(self, listener: Callable[[Finding], None]) -> None:
        """Call ``listener`` with every finding from now on."""
        with self._lock:
            self._listeners.append(listener)

    def all(self) -> list[Finding]:
        """Every finding so far, oldest first."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        """Forget the findings (a new test, a new recording)."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
