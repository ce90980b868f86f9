"""A step list as a scenario file (``scenarios/FORMAT.md``), so a counterexample becomes a
regression scenario that ``lotflow scenario run`` replays between any two parties.

Calls become call steps expecting the status the model saw; a receiver outage becomes an outage
step. The network becomes network steps that lotflow's webhook tap plays: a pass of the buyer's
sender under a fault sets that fault where the events it carried began (the running buyer sends
each event as soon as it commits, not when a model's pass comes), and a wait step at the pass
checks that those webhooks reached the tap as the fault says; a held-back copy arriving late is
a release of that copy. Settling restores the network, releases what is held and waits until
both portals agree on every lot (status and version) and bid, and until every webhook the
producer accepted twice was acknowledged as a duplicate (those whose first attempt met a fault
that makes any replay deliver them twice: a retry's timing is the running buyer's own).

Time passing needs no step while no call has set an expiry (it only brings retries due, which a
running buyer does on its own clock). What cannot be expressed against running portals is a
comment in its place, with the reason: time passing once an expiry is set (the buyer's clock:
only a real wait would pass it, and no fixed sleep is added), a restart of the buyer and a
sender killed after sending (its process: the network loses the sender's answers instead, so
the producer still sees the webhook again). Once time may have fired an expiry, the replay's
events may differ from the model's, so the printer stops asking for the webhooks of each pass
and for the duplicates' acknowledgements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from lotflow.engine.tap import EFFECTS, NetworkFault
from lotflow.explore.checks import ACK_DUPLICATE
from lotflow.explore.steps import Sent, Step

__all__ = ["print_scenario"]

KILL_SENDER = "kill-sender"
UNREPLAYED = {
    "time": "an expiry may fire: only the buyer's clock or a real wait would pass it",
    "restart": "needs control of the buyer's process",
    KILL_SENDER: "needs control of the buyer's process; the network loses its answers instead",
}
DUPLICATE_ACK = {f"/{ACK_DUPLICATE}": True}
REPEATING = {"delay", "duplicate", "lost-answer", KILL_SENDER}
"""Faults under which a webhook's first attempt makes the producer see it twice in any replay:
its copy is released later, or the buyer retries what the producer already has."""


class _PlainDumper(yaml.SafeDumper):
    """Writes a value shared by two steps twice instead of as a YAML anchor and alias (each
    step stands on its own, and the scenario loader refuses repeated anchors)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(value: Any, **options: Any) -> str:
    return str(yaml.dump(value, Dumper=_PlainDumper, sort_keys=False, width=100, **options))


def print_scenario(
    steps: Sequence[Step],
    *,
    name: str,
    description: str,
    aliases: Sequence[str] = ("alpha", "beta"),
    within: str | None = None,
) -> str:
    """The scenario YAML text of ``steps``; ``within`` (a duration such as ``5s``) is the
    deadline of every check it writes (None: the format's default)."""
    head = {"name": name, "description": description, "tags": ["model"], "producers": list(aliases)}
    lines = [
        yaml.safe_dump(head, sort_keys=False, width=100, allow_unicode=True).rstrip(),
        "steps:",
    ]
    lines += _Printer(steps, {"within": within} if within else {}).lines()
    if not any(line.startswith("  - ") for line in lines):
        lines.append("  []")
    return "\n".join(lines) + "\n"


@dataclass
class _Printer:
    """Walks the steps, keeping what the tap will be doing at each point of the replay."""

    steps: Sequence[Step]
    within: dict[str, str]
    fault: str = NetworkFault.DELIVER.value
    down: bool = False
    kept: bool = False  # a copy may be held back (a delay or duplicate pass came before)
    expiring: bool = False  # a call set an expiry (time passing may fire it)
    exact: bool = True  # the replay's events are the model's (no expiry may have fired yet)
    repeating: set[str] = field(default_factory=set)  # webhook-ids the replay must see twice

    def lines(self) -> list[str]:
        found: list[str] = []
        boundary = True
        for number, step in enumerate(self.steps, start=1):
            ident = f"s{number:02d}-{_slug(step.title)}"
            if boundary:
                found += self._set_fault(ident, _segment_fault(self.steps[number - 1 :]))
            found += self._step(ident, step)
            boundary = step.kind == "settle" or _is_pass(step)
        return found

    def _step(self, ident: str, step: Step) -> list[str]:
        if step.kind == "control" and step.call == "time" and not self.expiring:
            return [
                f"  # {ident}: {step.title} (no step needed: no expiry is set, and a running "
                "buyer's retries come due on its own clock)"
            ]
        if step.kind == "control":
            self.exact &= step.call != "time"
            return [_comment(ident, step.title, UNREPLAYED.get(step.call, "not expressible"))]
        if step.kind == "network" and step.from_now:  # a running buyer's: from here on
            met = self._met(ident, step, self.fault)
            return met + self._set_fault(ident, _played(step.fault))
        if step.kind == "network":
            if not _is_pass(step):
                return self._release(ident, step)
            return self._met(ident, step, _played(step.fault))
        if step.kind == "outage":
            self.down = step.down
            return _yaml(ident, step.title, outage={"party": "producer", "down": step.down})
        if step.kind == "settle":
            return self._settle(ident, step)
        self.expiring |= "${now+" in str(step.body)
        return _yaml(ident, step.title, **_call(step))

    def _set_fault(self, ident: str, fault: str) -> list[str]:
        if fault == self.fault:
            return []
        self.fault = fault
        self.kept |= EFFECTS[NetworkFault(fault)].keep
        title = f"The network between the portals: {fault}"
        return _yaml(f"{ident[:3]}-network-{fault}", title, network={"fault": fault})

    def _met(self, ident: str, step: Step, fault: str) -> list[str]:
        """A wait for the webhooks first sent under ``fault`` (a pass's, or for a running buyer
        the fault in force until this step): they reached the tap as the fault says."""
        found = [_comment(ident, step.title, UNREPLAYED[KILL_SENDER])] * (step.fault == KILL_SENDER)
        new = [sent for sent in step.sent if sent.first]
        if not self.exact or not new:
            why = "nothing new was sent" if self.exact else "an expiry may have fired by now"
            return [*found, f"  # {ident}: {step.title} (no check: {why})"]
        if fault in REPEATING:
            self.repeating |= {sent.webhook_id for sent in new}
        hooks = [
            {"event": s.event, "match": s.match(), "delivered": s.delivered, **self.within}
            for s in new
        ]
        title = f"The webhooks sent so far met the network ({fault})" if step.from_now else None
        return found + _yaml(ident, title or step.title, wait={"webhooks": hooks})

    def _release(self, ident: str, step: Step) -> list[str]:
        if not step.sent:  # the model releases one copy at a time
            return [f"  # {ident}: {step.title} (nothing to replay)"]
        sent = step.sent[0]
        network = {"release": "held", "event": sent.event, "match": sent.match()}
        return _yaml(ident, step.title, network=network)

    def _settle(self, ident: str, step: Step) -> list[str]:
        found = self._set_fault(ident, NetworkFault.DELIVER.value)
        if self.down:
            self.down = False
            found += _yaml(
                f"{ident[:3]}-producer-back", "The producer portal comes back", outage=_UP
            )
        repeats = [sent for sent in step.repeats if sent.webhook_id in self.repeating]
        if self.kept:
            self.kept = False  # the fault is ``deliver`` now: nothing more is held back
            title = "Every webhook copy held back arrives late"
            found += _yaml(f"{ident[:3]}-release-held", title, network={"release": "held"})
        wait: dict[str, Any] = {"agree": [a | self.within for a in _agreements(step)]}
        if self.exact and repeats:
            wait["webhooks"] = [a | self.within for a in _acknowledged(repeats)]
        return found + _yaml(ident, step.title, wait=wait)


_UP = {"party": "producer", "down": False}


def _is_pass(step: Step) -> bool:
    return step.kind == "network" and bool(step.fault) and not step.from_now


def _played(fault: str) -> str:
    """The tap's fault for a model's: a killed sender is played as its answer lost."""
    return NetworkFault.LOST_ANSWER.value if fault == KILL_SENDER else fault


def _segment_fault(rest: Sequence[Step]) -> str:
    """The fault of the next pass (or ``deliver`` before a settle): the events committed from
    here on are the ones that pass carries."""
    for step in rest:
        if step.kind == "settle":
            break
        if _is_pass(step):
            return _played(step.fault)
    return NetworkFault.DELIVER.value


def _yaml(ident: str, title: str, **content: Any) -> list[str]:
    text = _dump([{"id": ident, "title": title, **content}], default_flow_style=None)
    return ["  " + line for line in text.rstrip().splitlines()]


def _comment(ident: str, title: str, why: str) -> str:
    return f"  # {ident}: {title} (not replayed: {why})"


def _call(step: Step) -> dict[str, Any]:
    found: dict[str, Any] = {"actor": step.actor, "call": step.call}
    if step.path:
        found["path"] = dict(step.path)
    if step.body is not None:
        found["body"] = step.body
    if step.status is not None:
        found["expect"] = {"status": step.status}
    if step.save:
        found["save"] = dict(step.save)
    return found


def _acknowledged(repeats: Iterable[Sent]) -> Iterable[dict[str, Any]]:
    """Each webhook accepted twice: one of its deliveries was acknowledged as a duplicate."""
    said: set[str] = set()
    for sent in repeats:
        if sent.webhook_id not in said:
            said.add(sent.webhook_id)
            yield {"event": sent.event, "match": sent.match(), "answer": dict(DUPLICATE_ACK)}


def _agreements(step: Step) -> Iterable[dict[str, Any]]:
    for entity, var in step.agree:
        if entity == "lot":
            path = {"lotId": f"${{{var}}}"}
            for at in ("/lot/status", "/lot/version"):
                yield {
                    "entity": "lot",
                    "buyer": {"call": "getLot", "path": path, "at": at},
                    "producer": {"call": "getMarketplaceLot", "path": path, "at": at},
                }
            continue
        pbid = step.pbids[var]
        yield {
            "entity": "bid",
            "buyer": {"call": "getBid", "path": {"bidId": f"${{{var}}}"}, "at": "/bid/status"},
            "producer": {
                "party": f"producer:{step.aliases[pbid]}",
                "call": "getProducerBid",
                "path": {"bidId": f"${{{pbid}}}"},
                "at": "/bid/status",
            },
        }


def _slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words[:6]) or "step"
