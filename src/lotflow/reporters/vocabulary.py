"""Words for operations and webhook events, taken from the spec's own ``summary`` of each, so a
report says "Publish a draft lot to producers" where an engineer would say ``publishLot`` and
no table of phrases is kept by hand (a renamed or re-worded operation changes the reports)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from lotflow.openapi import load_portal_spec, operations

__all__ = ["Vocabulary", "spec_vocabulary"]


@dataclass(frozen=True)
class Vocabulary:
    """operationId → words and webhook event → words; an unknown name is said as it is."""

    operations: Mapping[str, str] = field(default_factory=dict)
    events: Mapping[str, str] = field(default_factory=dict)

    def operation(self, operation_id: str) -> str:
        """What the operation does, in words (its id when the spec has no summary)."""
        return self.operations.get(operation_id) or operation_id

    def event(self, name: str) -> str:
        """What the webhook event says, in words (its name when the spec has no summary)."""
        return self.events.get(name) or name


@cache
def spec_vocabulary() -> Vocabulary:
    """The vocabulary of the shipped contract (both portals)."""
    specs = [load_portal_spec(portal) for portal in ("buyer", "producer")]
    words = {
        op_id: op.summary for spec in specs for op_id, op in operations(spec).items() if op.summary
    }
    events = {
        name: str(item.get("post", {}).get("summary") or "")
        for spec in specs
        for name, item in (spec.get("webhooks") or {}).items()
    }
    return Vocabulary(words, events)
