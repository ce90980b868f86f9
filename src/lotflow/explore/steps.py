"""What the model did, step by step, in a form a scenario file can be printed from.

A :class:`Step` is a call (actor, operationId, path, body with ``${var}`` references, the status
observed and the ids saved from the answer), a control of the world between the parties (time
passing, a restart), the network (a pass of the buyer's sender under a fault, a held copy
arriving late: what was sent, as :class:`Sent`), an outage of the receiver, or settling. Ids are
kept symbolic (``lot_1``, ``bid_1`` for the buyer's bid id, ``pbid_1`` for the producer's), so
the same step list runs again against any pair of parties.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from lotflow.clock import isoformat

__all__ = ["Sent", "Step", "Variables"]

StepKind = Literal["call", "control", "network", "outage", "settle"]
_REF = re.compile(r"\$\{([a-z_0-9]+)(?:\+(\d+)s)?\}")


@dataclass(frozen=True)
class Sent:
    """One webhook attempt the network carried in a step, named as a scenario names it: the
    event, the entity (``lot`` or ``bid``) it is about as a variable (``lot_1``) and its
    version, whether the producer accepted it (2xx), whether it had accepted this webhook-id
    before (a repeat)."""

    event: str
    webhook_id: str
    entity: str
    var: str
    version: int
    delivered: bool
    first: bool
    repeat: bool

    def match(self) -> dict[str, Any]:
        """The pointers that pick this webhook out of the others (id and version)."""
        return {f"/{self.entity}/_id": f"${{{self.var}}}", f"/{self.entity}/version": self.version}


@dataclass
class Step:
    """One step of the model, as it ran."""

    kind: StepKind
    title: str
    actor: str = ""  # buyer | producer:<alias> (calls)
    call: str = ""  # operationId (calls), or the control's name
    path: dict[str, str] = field(default_factory=dict)
    body: Any = None
    status: int | None = None  # observed (calls)
    save: dict[str, str] = field(default_factory=dict)  # variable → JSON pointer
    down: bool = False  # outage steps
    agree: list[tuple[str, str]] = field(default_factory=list)  # settle: (entity, variable)
    pbids: dict[str, str] = field(default_factory=dict)  # settle: bid variable → pbid variable
    aliases: dict[str, str] = field(default_factory=dict)  # settle: pbid variable → alias
    fault: str = ""  # network: the pass's fault ("" for a release)
    from_now: bool = False  # network: the fault met the deliveries after this step (live pairs)
    sent: list[Sent] = field(default_factory=list)  # network: what the network carried
    repeats: list[Sent] = field(default_factory=list)  # settle: webhooks accepted twice so far


class Variables:
    """Saved ids by name, and the substitution of ``${name}`` and ``${now+Ns}`` in call parts."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.values: dict[str, str] = {}
        self._now = now

    def fill(self, value: Any) -> Any:
        if isinstance(value, str):
            return _REF.sub(self._one, value)
        if isinstance(value, Mapping):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return value

    def _one(self, match: re.Match[str]) -> str:
        name, seconds = match.group(1), match.group(2)
        if name == "now":
            return isoformat(self._now() + timedelta(seconds=int(seconds or 0)))
        return self.values[name]
