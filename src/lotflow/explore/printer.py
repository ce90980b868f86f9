"""A step list as a scenario file (``scenarios/FORMAT.md``), so a counterexample becomes a
regression scenario that ``lotflow scenario run`` replays between any two parties.

Calls become call steps expecting the status the model saw; a receiver outage becomes an outage
step; settling becomes a wait step whose ``agree`` checks compare every lot and bid through the
workflow's mapping. What the format cannot express (a delivery fault, time passing, a restart)
is written as a comment in its place: the replay runs without it, so the file says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from lotflow.explore.steps import Step

__all__ = ["print_scenario"]


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
) -> str:
    """The scenario YAML text of ``steps``."""
    head = {"name": name, "description": description, "tags": ["model"], "producers": list(aliases)}
    lines = [
        yaml.safe_dump(head, sort_keys=False, width=100, allow_unicode=True).rstrip(),
        "steps:",
    ]
    for number, step in enumerate(steps, start=1):
        lines += _lines(number, step)
    if not any(line.startswith("  - ") for line in lines):
        lines.append("  []")
    return "\n".join(lines) + "\n"


def _lines(number: int, step: Step) -> list[str]:
    ident = f"s{number:02d}-{_slug(step.title)}"
    if step.kind == "control":
        return [f"  # {ident}: {step.title} (not replayed: needs control of the {_needs(step)})"]
    body: dict[str, Any] = {"id": ident, "title": step.title}
    if step.kind == "outage":
        body["outage"] = {"party": "producer", "down": step.down}
    elif step.kind == "settle":
        body["wait"] = {"agree": list(_agreements(step))}
    else:
        body |= _call(step)
    text = _dump([body], default_flow_style=None, allow_unicode=True)
    return ["  " + line for line in text.rstrip().splitlines()]


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


def _agreements(step: Step) -> Iterable[dict[str, Any]]:
    for entity, var in step.agree:
        if entity == "lot":
            path = {"lotId": f"${{{var}}}"}
            yield {
                "entity": "lot",
                "buyer": {"call": "getLot", "path": path, "at": "/lot/status"},
                "producer": {"call": "getMarketplaceLot", "path": path, "at": "/lot/status"},
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


def _needs(step: Step) -> str:
    if step.call == "time":
        return "clock"
    if step.call == "restart":
        return "buyer's process"
    return "network"


def _slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words[:6]) or "step"
