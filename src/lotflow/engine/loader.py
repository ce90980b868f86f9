"""Load scenario files: YAML, checked against ``scenarios/schema.json`` and the format's rules.

Every problem names the file, the line, the bad key or value and, where one is close, what was
probably meant; all problems of a file (or of a catalogue) are raised together as one
:class:`~lotflow.errors.ScenarioFileError`, one ``file:line: message`` per line.

The loader does not read the spec: the caller passes ``known_operations`` (operationId →
``"buyer"`` or ``"producer"``, the portal that serves it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from lotflow.engine.diagnostics import scenario_schema, schema_problems
from lotflow.engine.model import (
    DEFAULT_PRODUCERS,
    DEFAULT_WITHIN,
    Agreement,
    Call,
    CallStep,
    Checks,
    Expectation,
    NetworkStep,
    OutageStep,
    Scenario,
    StateCheck,
    Step,
    WaitStep,
    WebhookExpectation,
)
from lotflow.engine.rules import rule_problems
from lotflow.engine.static import SpecFacts, static_problems
from lotflow.errors import ScenarioFileError
from lotflow.yamlsource import Positions, parse_yaml

__all__ = [
    "catalogue_dir",
    "catalogue_files",
    "load_catalogue",
    "load_scenario",
    "parse_duration",
    "scenario_schema",
]

DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0}


def catalogue_dir() -> Path:
    """The folder of the shipped scenario catalogue."""
    return Path(str(files("lotflow.scenarios")))


def catalogue_files() -> list[Path]:
    """The shipped scenario files, in name order."""
    return sorted(catalogue_dir().glob("*.yaml"))


def load_catalogue(
    sources: Path | str | Iterable[Path | str],
    known_operations: Mapping[str, str],
    facts: SpecFacts | None = None,
) -> list[Scenario]:
    """Load every scenario in ``sources`` (files, or folders whose ``*.yaml`` files are read).

    Raises one ScenarioFileError listing the problems of every bad file, and names a scenario
    ``name`` used by two files (reports key scenarios by name).
    """
    scenarios: list[Scenario] = []
    messages: list[str] = []
    for path in _expand(sources):
        try:
            scenarios.append(load_scenario(path, known_operations, facts))
        except ScenarioFileError as exc:
            messages.append(str(exc))
    messages += _duplicate_names(scenarios)
    if messages:
        raise ScenarioFileError("\n".join(messages))
    return scenarios


def _expand(sources: Path | str | Iterable[Path | str]) -> list[Path]:
    items = [sources] if isinstance(sources, str | Path) else list(sources)
    found: list[Path] = []
    for item in map(Path, items):
        found += sorted([*item.glob("*.yaml"), *item.glob("*.yml")]) if item.is_dir() else [item]
    return found


def _duplicate_names(scenarios: list[Scenario]) -> list[str]:
    first: dict[str, Path] = {}
    messages = []
    for scenario in scenarios:
        if scenario.name in first:
            messages.append(
                f"{scenario.path}:1: the scenario name {scenario.name!r} is also used by "
                f"{first[scenario.name]}; names must be unique (reports are keyed by them)"
            )
        first.setdefault(scenario.name, scenario.path)
    return messages


def load_scenario(
    path: Path | str, known_operations: Mapping[str, str], facts: SpecFacts | None = None
) -> Scenario:
    """Read and check one scenario file and build its model; with ``facts``, also check it
    statically against the spec (path parameters, variables, pointers)."""
    path = Path(path)
    data, positions = _parse(path)
    problems = schema_problems(data, positions)
    if not problems:
        problems = rule_problems(data, positions, known_operations)
    if not problems and facts is not None:
        problems = static_problems(data, positions, facts)
    if problems:
        raise ScenarioFileError("\n".join(f"{path}:{p.line}: {p.message}" for p in problems))
    return _scenario(path, data, positions)


def _parse(path: Path) -> tuple[Any, Positions]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ScenarioFileError(f"{path}: cannot read the scenario file: {reason}") from exc
    try:
        data, positions = parse_yaml(text)
    except yaml.YAMLError as exc:
        raise ScenarioFileError(_yaml_message(path, exc)) from None
    if data is None:
        raise ScenarioFileError(f"{path}:1: the file is empty; a scenario needs 'name' and 'steps'")
    return data, positions


def _yaml_message(path: Path, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    detail = f"{problem} ({context})" if context else problem
    return f"{path}{line}: not valid YAML: {detail}"


# ---------------------------------------------------------------- building the model
def parse_duration(text: str | None, default: float = DEFAULT_WITHIN) -> float:
    """Seconds in a duration such as ``500ms``, ``5s``, ``1.5s`` or ``1m`` (None: ``default``)."""
    if text is None:
        return default
    match = DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use 500ms, 5s or 1m)")
    return float(match.group(1)) * UNIT_SECONDS[match.group(2)]


def _scenario(path: Path, data: dict[str, Any], positions: Positions) -> Scenario:
    steps = tuple(_step(raw, positions.line(("steps", i))) for i, raw in enumerate(data["steps"]))
    return Scenario(
        name=data["name"],
        path=path,
        steps=steps,
        description=" ".join(str(data.get("description", "")).split()),
        tags=tuple(data.get("tags") or ()),
        producers=tuple(data.get("producers") or DEFAULT_PRODUCERS),
    )


def _step(raw: dict[str, Any], line: int) -> Step:
    if "outage" in raw:
        outage = raw["outage"]
        return OutageStep(
            raw["id"], raw["title"], line, outage["down"], outage["party"], _checks(raw)
        )
    if "network" in raw:
        return _network(raw, line)
    if "wait" in raw:
        return WaitStep(raw["id"], raw["title"], line, _checks(raw["wait"]))
    expect = raw.get("expect") or {}
    return CallStep(
        id=raw["id"],
        title=raw["title"],
        line=line,
        call=_call(raw, raw["actor"]),
        expect=Expectation(_statuses(expect.get("status")), dict(expect.get("body") or {})),
        save=dict(raw.get("save") or {}),
        checks=_checks(raw),
    )


def _network(raw: dict[str, Any], line: int) -> NetworkStep:
    network = raw["network"]
    return NetworkStep(
        raw["id"],
        raw["title"],
        line,
        fault=network.get("fault"),
        release="release" in network,
        event=network.get("event"),
        match=dict(network.get("match") or {}),
        reversed=network.get("order") == "reversed",
        within=parse_duration(network.get("within")),
        checks=_checks(raw),
    )


def _statuses(raw: int | list[int] | None) -> tuple[int, ...]:
    if raw is None:
        return ()
    return tuple(raw) if isinstance(raw, list) else (raw,)


def _call(raw: Mapping[str, Any], actor: str) -> Call:
    return Call(
        actor=actor,
        operation=raw["call"],
        path=dict(raw.get("path") or {}),
        query=dict(raw.get("query") or {}),
        body=raw.get("body"),
    )


def _checks(raw: Mapping[str, Any]) -> Checks:
    return Checks(
        webhooks=tuple(_webhook(w) for w in raw.get("webhooks") or ()),
        state=tuple(_state(s) for s in raw.get("state") or ()),
        agree=tuple(_agreement(a) for a in raw.get("agree") or ()),
    )


def _webhook(raw: Mapping[str, Any]) -> WebhookExpectation:
    return WebhookExpectation(
        event=raw["event"],
        match=dict(raw.get("match") or {}),
        within=parse_duration(raw.get("within")),
        count=raw.get("count"),
        delivered=raw.get("delivered", True),
        answer=dict(raw.get("answer") or {}),
    )


def _state(raw: Mapping[str, Any]) -> StateCheck:
    return StateCheck(
        call=_call(raw, raw["party"]),
        expect=dict(raw["expect"]),
        status=_statuses(raw.get("status")),
        within=parse_duration(raw.get("within")),
    )


def _agreement(raw: Mapping[str, Any]) -> Agreement:
    buyer, producer = raw["buyer"], raw["producer"]
    return Agreement(
        entity=raw["entity"],
        buyer=_call(buyer, buyer.get("party", "buyer")),
        buyer_at=buyer["at"],
        producer=_call(producer, producer.get("party", "producer")),
        producer_at=producer["at"],
        within=parse_duration(raw.get("within")),
    )
