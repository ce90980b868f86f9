"""Load scenario files: schema-checked, with errors naming file, line, bad key and a suggestion."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from lotflow.engine.model import (
    DEFAULT_WITHIN,
    Agreement,
    Request,
    Scenario,
    StateCheck,
    Step,
    WebhookExpectation,
)
from lotflow.errors import ScenarioFileError

DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$")
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0}


@cache
def scenario_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (files("lotflow.scenarios") / "schema.json").read_text(encoding="utf-8")
    )
    return schema


def catalogue_dir() -> Path:
    return Path(str(files("lotflow.scenarios")))


def catalogue_files() -> list[Path]:
    return sorted(catalogue_dir().glob("*.yaml"))


def load_catalogue(paths: Iterable[Path], known_operations: Mapping[str, str]) -> list[Scenario]:
    found: list[Path] = []
    for path in paths:
        found += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return [load_scenario(path, known_operations) for path in found]


def load_scenario(path: Path, known_operations: Mapping[str, str]) -> Scenario:
    """Parse and check one file; ``known_operations`` maps operationId → portal."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioFileError(f"{path}: cannot read the scenario file ({exc.strerror}).") from exc
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ScenarioFileError(
            f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}."
        ) from None
    _check_schema(path, node, data)
    scenario = _build(path, node, data)
    _check_semantics(path, scenario, known_operations)
    return scenario


# ---------------------------------------------------------------- schema errors with lines
def _check_schema(path: Path, node: Any, data: Any) -> None:
    validator = jsonschema_rs.Draft202012Validator(scenario_schema())
    errors = sorted(
        validator.iter_errors(data),
        key=lambda e: (len(list(e.instance_path)), _unexpected_key(e.message) is not None),
        reverse=True,
    )
    if not errors:
        return
    error = errors[0]
    location = list(error.instance_path)
    bad_key = _unexpected_key(error.message)
    target = _node_at(node, location + ([bad_key] if bad_key else []), key=bool(bad_key))
    line = target.start_mark.line + 1 if target is not None else 1
    if bad_key:
        allowed = _allowed_keys(data, location)
        near = difflib.get_close_matches(bad_key, allowed, n=1, cutoff=0.5)
        hint = (
            f"; did you mean {near[0]!r}?"
            if near
            else f"; expected one of: {', '.join(sorted(allowed))}."
        )
        raise ScenarioFileError(f"{path}:{line}: unknown key {bad_key!r} {_where(location)}{hint}")
    raise ScenarioFileError(f"{path}:{line}: {_where(location)}: {error.message}")


def _unexpected_key(message: str) -> str | None:
    match = re.search(r"\('([^']+)' was unexpected\)", message)
    return match.group(1) if match else None


def _where(location: list[Any]) -> str:
    if not location:
        return "at the top level"
    return "in " + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in location).lstrip(
        "."
    )


def _allowed_keys(data: Any, location: list[Any]) -> list[str]:
    schema = scenario_schema()
    defs = schema["$defs"]
    current: dict[str, Any] = schema
    for part in location:
        if isinstance(part, int):
            current = current.get("items", {})
        else:
            current = current.get("properties", {}).get(part, {})
        while "$ref" in current:
            current = defs[current["$ref"].rsplit("/", 1)[-1]]
    return list(current.get("properties", {}))


def _node_at(node: Any, location: list[Any], *, key: bool) -> Any:
    for index, part in enumerate(location):
        last = index == len(location) - 1
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        elif isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                return node
            node = pair[0] if (last and key) else pair[1]
        else:
            return node
    return node


# ---------------------------------------------------------------- building the model
def _duration(value: str | None) -> float:
    if value is None:
        return DEFAULT_WITHIN
    match = DURATION.match(value)
    assert match, value  # the schema guarantees the shape
    return float(match.group(1)) * UNITS[match.group(2)]


def _request(raw: Mapping[str, Any], actor: str) -> Request:
    return Request(
        actor,
        raw["call"],
        dict(raw.get("path") or {}),
        dict(raw.get("query") or {}),
        raw.get("body"),
    )


def _webhooks(raw: list[dict[str, Any]] | None) -> tuple[WebhookExpectation, ...]:
    return tuple(
        WebhookExpectation(
            w["event"],
            dict(w.get("match") or {}),
            _duration(w.get("within")),
            w.get("count"),
            w.get("delivered", True),
        )
        for w in raw or []
    )


def _states(raw: list[dict[str, Any]] | None) -> tuple[StateCheck, ...]:
    return tuple(
        StateCheck(_request(s, s["party"]), dict(s["expect"]), _duration(s.get("within")))
        for s in raw or []
    )


def _agreements(raw: list[dict[str, Any]] | None) -> tuple[Agreement, ...]:
    return tuple(
        Agreement(
            a["entity"],
            _request(a["buyer"], a["buyer"].get("party", "buyer")),
            a["buyer"]["at"],
            _request(a["producer"], a["producer"].get("party", "producer")),
            a["producer"]["at"],
            _duration(a.get("within")),
        )
        for a in raw or []
    )


def _build(path: Path, node: Any, data: dict[str, Any]) -> Scenario:
    step_nodes = _node_at(node, ["steps"], key=False).value
    steps = []
    for raw, step_node in zip(data["steps"], step_nodes, strict=True):
        status = raw.get("expect", {}).get("status")
        wait = raw.get("wait") or {}
        steps.append(
            Step(
                id=raw["id"],
                title=raw["title"],
                line=step_node.start_mark.line + 1,
                request=_request(raw, raw["actor"]) if "call" in raw else None,
                expect_status=None
                if status is None
                else tuple(status if isinstance(status, list) else [status]),
                expect_body=dict(raw.get("expect", {}).get("body") or {}),
                save=dict(raw.get("save") or {}),
                webhooks=_webhooks(raw.get("webhooks") or wait.get("webhooks")),
                state=_states(raw.get("state") or wait.get("state")),
                agree=_agreements(raw.get("agree")),
                outage=raw["outage"]["down"] if "outage" in raw else None,
            )
        )
    description = " ".join(data.get("description", "").split())
    return Scenario(
        data["name"],
        path,
        tuple(steps),
        description,
        tuple(data.get("tags", ())),
        tuple(data.get("producers", ("alpha",))),
    )


def _check_semantics(path: Path, scenario: Scenario, known: Mapping[str, str]) -> None:
    seen: set[str] = set()
    for step in scenario.steps:
        if step.id in seen:
            raise ScenarioFileError(
                f"{path}:{step.line}: step id {step.id!r} is used twice; step ids must be unique."
            )
        seen.add(step.id)
        for request in _requests(step):
            if request.operation not in known:
                near = difflib.get_close_matches(request.operation, list(known), n=1, cutoff=0.6)
                hint = f" Did you mean {near[0]!r}?" if near else ""
                raise ScenarioFileError(
                    f"{path}:{step.line}: step {step.id!r} calls {request.operation!r}, which "
                    f"is not an operation of the buyer or producer spec.{hint}"
                )
            alias = request.actor.partition(":")[2]
            if alias and alias not in scenario.producers:
                raise ScenarioFileError(
                    f"{path}:{step.line}: step {step.id!r} acts as producer {alias!r}, which is "
                    f"not in the scenario's producers {list(scenario.producers)}."
                )


def _requests(step: Step) -> list[Request]:
    found = [step.request] if step.request else []
    found += [s.request for s in step.state]
    found += [r for a in step.agree for r in (a.buyer, a.producer)]
    return found
