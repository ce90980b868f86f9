"""The rules of a scenario file that its JSON Schema cannot say.

Unique step ids, keys that belong to another kind of step, operationIds that exist (with the
closest one suggested), an actor calling the portal it can call, producer aliases that the
scenario declares, and variable names that do not shadow a built-in. Checked on the parsed
document (after the schema holds) so every problem can name its line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lotflow.engine.diagnostics import Diagnostic, closest, describe
from lotflow.engine.model import DEFAULT_PRODUCERS
from lotflow.engine.variables import RELATIVE
from lotflow.yamlsource import Path_, Positions

CALL_ONLY = ("path", "query", "body", "expect", "save")
RELEASE_ONLY = ("event", "match", "order", "within")
CHECKS = ("webhooks", "state", "agree")
RESERVED = ("run_id",)


@dataclass(frozen=True)
class _CallSite:
    """One ``call:`` in the file: who makes it and, for an agreement side, which portal it reads."""

    location: Path_
    actor: str
    operation: str
    side: str | None = None


def rule_problems(
    data: dict[str, Any], positions: Positions, known_operations: Mapping[str, str]
) -> list[Diagnostic]:
    """Every rule ``data`` (already schema-valid) breaks."""
    producers = tuple(data.get("producers") or DEFAULT_PRODUCERS)
    problems = _duplicate_ids(data, positions)
    for index, step in enumerate(data["steps"]):
        location: Path_ = ("steps", index)
        problems += _misplaced_keys(data, step, location, positions)
        problems += _reserved_names(data, step, location, positions)
        for site in _call_sites(step, location):
            problems += _call_problems(data, site, positions, known_operations, producers)
    return sorted(problems)


def _duplicate_ids(data: dict[str, Any], positions: Positions) -> list[Diagnostic]:
    first: dict[str, int] = {}
    problems = []
    for index, step in enumerate(data["steps"]):
        line = positions.line(("steps", index, "id"))
        if step["id"] in first:
            message = (
                f"the step id {step['id']!r} is used twice (first on line {first[step['id']]}); "
                "step ids must be unique within a file"
            )
            problems.append(Diagnostic(line, message))
        first.setdefault(step["id"], line)
    return problems


def _misplaced_keys(
    data: dict[str, Any], step: dict[str, Any], location: Path_, positions: Positions
) -> list[Diagnostic]:
    if "call" in step:
        return []
    kind = next(k for k in ("outage", "network", "wait") if k in step)
    wrong = [key for key in CALL_ONLY if key in step]
    if kind == "wait":
        wrong += [key for key in CHECKS if key in step]
    problems = _fault_with_release_keys(data, step, location, positions)
    for key in wrong:
        hint = "put it under 'wait:'" if key in CHECKS else "only a call step has it"
        where = describe(data, location)
        message = f"{where} is {_article(kind)} step: {key!r} does not belong here ({hint})"
        problems.append(Diagnostic(positions.key_line((*location, key)), message))
    return problems


def _fault_with_release_keys(
    data: dict[str, Any], step: dict[str, Any], location: Path_, positions: Positions
) -> list[Diagnostic]:
    network = step.get("network") or {}
    if "fault" not in network:
        return []
    where = describe(data, location)
    return [
        Diagnostic(
            positions.key_line((*location, "network", key)),
            f"{where} sets a fault: {key!r} belongs to a release (network: {{release: held}})",
        )
        for key in RELEASE_ONLY
        if key in network
    ]


def _article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _reserved_names(
    data: dict[str, Any], step: dict[str, Any], location: Path_, positions: Positions
) -> list[Diagnostic]:
    problems = []
    for name in step.get("save") or {}:
        if name in RESERVED or RELATIVE.match(name):
            message = (
                f"{describe(data, location)} saves {name!r}, which is a built-in variable; "
                "choose another name"
            )
            problems.append(Diagnostic(positions.key_line((*location, "save", name)), message))
    return problems


def _call_sites(step: dict[str, Any], location: Path_) -> Iterator[_CallSite]:
    if "call" in step:
        yield _CallSite((*location, "call"), step["actor"], step["call"])
    holder, base = (step["wait"], (*location, "wait")) if "wait" in step else (step, location)
    for number, check in enumerate(holder.get("state") or []):
        yield _CallSite((*base, "state", number, "call"), check["party"], check["call"])
    for number, agreement in enumerate(holder.get("agree") or []):
        for side in ("buyer", "producer"):
            raw = agreement[side]
            where = (*base, "agree", number, side, "call")
            yield _CallSite(where, raw.get("party", side), raw["call"], side)


def _call_problems(
    data: dict[str, Any],
    site: _CallSite,
    positions: Positions,
    known: Mapping[str, str],
    producers: tuple[str, ...],
) -> list[Diagnostic]:
    line = positions.line(site.location)
    where = describe(data, site.location)
    portal = known.get(site.operation)
    if portal is None:
        near = closest(site.operation, known)
        hint = f"; did you mean {near!r}?" if near else ""
        message = (
            f"{where}: {site.operation!r} is not an operationId of the buyer or producer spec{hint}"
        )
        return [Diagnostic(line, message)]
    problems = []
    wrong_portal = _wrong_portal(site, portal)
    if wrong_portal:
        problems.append(Diagnostic(line, f"{where}: {wrong_portal}"))
    alias = site.actor.partition(":")[2]
    if alias and alias not in producers:
        message = (
            f"{where}: acts as producer {alias!r}, which is not among the scenario's "
            f"producers ({', '.join(producers)}); add it to 'producers:'"
        )
        problems.append(Diagnostic(line, message))
    return problems


def _wrong_portal(site: _CallSite, portal: str) -> str | None:
    if site.side is not None and portal != site.side:
        return (
            f"the {site.side} side of an agreement must read the {site.side} portal, "
            f"but {site.operation!r} is an operation of the {portal} portal"
        )
    if site.actor == "buyer" and portal == "producer":
        return (
            f"the buyer cannot call {site.operation!r}, an operation of the producer portal; "
            "use 'producer' (or producer:<alias>)"
        )
    return None
