"""Fault plans: which faults a simulator injects, declared in YAML (or CLI flags), reproducibly.

A plan has a ``seed`` and two lists of rules: ``webhooks`` (faults on the webhooks the buyer
simulator sends) and ``answers`` (faults on the answers a simulator gives: the producer
simulator's webhook receivers, the buyer simulator's producer-facing operations). A rule names
its ``fault``, optionally the ``event``/``operation`` it applies to, lets ``skip`` matching
messages through first, then affects ``times`` of them (0: every one), each with
``probability`` (drawn from a generator seeded by the plan's seed and the rule's position, so the
same seed and the same traffic give the same faults). The file is checked against the shipped
JSON Schema (``faultplan.schema.json``); every problem names the file, the line, the bad key or
value and the closest valid one.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from lotflow.engine.diagnostics import TYPE_WORDS, closest, describe
from lotflow.engine.yamlsource import Positions, parse_yaml
from lotflow.errors import LotflowError

__all__ = [
    "ANSWER_FAULTS",
    "WEBHOOK_FAULTS",
    "FaultChooser",
    "FaultPlan",
    "FaultPlanError",
    "FaultRule",
    "fault_plan_schema",
    "load_fault_plan",
    "parse_fault_plan",
    "plan_from_flags",
]

WEBHOOK_FAULTS: dict[str, str] = {
    "delay": "wait `ms` milliseconds before sending",
    "drop": "never send it; the simulator's sender sees a connection failure and retries "
    "(`silent: true`: it believes the webhook was delivered, so it is lost)",
    "duplicate": "send it `copies` times (default 2), same webhook-id",
    "reorder": "hold it and send it after the next webhook (or after `ms`, default 1000)",
    "bad-signature": "replace the signature with one that matches nothing",
    "stale-timestamp": "sign it with a timestamp `age` seconds old (default 600)",
    "wrong-secret": "sign it with a secret the receiver does not hold",
    "missing-headers": "leave out `headers` (default: all three Standard Webhooks headers)",
    "legacy-bearer": "send today's static `Authorization: Bearer <secret>` instead of a signature",
    "malformed-body": "send a body that is not JSON (correctly signed)",
    "truncated-body": "cut the body in half in transit (signed over the whole body)",
    "unknown-event": "first send an event of a type the spec does not define (`type`)",
    "stale-version": "after it, send the entity's previous event again under a new webhook-id",
}
"""Faults on webhooks sent, with what each does."""

ANSWER_FAULTS: dict[str, str] = {
    "status": "answer `status` (with `retry_after` seconds when given) without processing",
    "error": "answer 500 without processing",
    "gone": "answer 410 (the receiver gave up on this endpoint)",
    "throttle": "answer 429 with Retry-After `retry_after` (default 1)",
    "unavailable": "answer 503 with Retry-After `retry_after` (default 1)",
    "conflict": "refuse with 409 (a business refusal)",
    "unprocessable": "refuse with 422 (a business refusal)",
    "slow": "answer normally after `ms` milliseconds (default 500)",
    "timeout": "answer normally after `ms` milliseconds (default 15000: past a 10 s timeout)",
    "late": "process it, then hold the answer until a webhook sent since it came was delivered "
    "(at most `ms` milliseconds, default 5000): the webhook arrives before the answer",
    "reset": "close the connection without answering",
}
"""Faults on answers given, with what each does."""

PARAMETERS: dict[str, frozenset[str]] = {
    "ms": frozenset({"delay", "reorder", "slow", "timeout", "late"}),
    "silent": frozenset({"drop"}),
    "copies": frozenset({"duplicate"}),
    "age": frozenset({"stale-timestamp"}),
    "headers": frozenset({"missing-headers"}),
    "type": frozenset({"unknown-event"}),
    "status": frozenset({"status"}),
    "retry_after": frozenset({"status", "throttle", "unavailable"}),
}
"""Which faults each parameter applies to (the others apply to every rule)."""

_MATCHING = ("fault", "event", "operation", "skip", "times", "probability")


class FaultPlanError(LotflowError):
    """A fault plan (file or flags) that cannot be used; the message names each problem."""


@dataclass(frozen=True)
class FaultRule:
    """One rule of a plan (see the module docstring)."""

    section: str  # "webhooks" or "answers"
    position: int
    fault: str
    events: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()
    skip: int = 0
    times: int = 1
    probability: float = 1.0
    params: Mapping[str, Any] = field(default_factory=dict)

    def applies_to(self, event: str | None, operation: str | None) -> bool:
        """Whether a message about ``event``/``operation`` is one this rule looks at."""
        if self.events and event not in self.events:
            return False
        return not (self.operations and operation not in self.operations)

    def param(self, name: str, default: Any) -> Any:
        """A parameter of the fault, or its default."""
        return self.params.get(name, default)


@dataclass(frozen=True)
class FaultPlan:
    """A seed and the rules; :meth:`chooser` makes the per-run state that picks faults."""

    seed: int = 0
    webhooks: tuple[FaultRule, ...] = ()
    answers: tuple[FaultRule, ...] = ()

    def chooser(self) -> FaultChooser:
        """A fresh chooser: the same plan and the same traffic give the same choices."""
        return FaultChooser(self)

    def to_dict(self) -> dict[str, Any]:
        """The plan in the file's shape."""

        def rule(r: FaultRule) -> dict[str, Any]:
            out: dict[str, Any] = {"fault": r.fault}
            if r.events:
                out["event"] = list(r.events)
            if r.operations:
                out["operation"] = list(r.operations)
            out |= {"skip": r.skip, "times": r.times, "probability": r.probability}
            return out | dict(r.params)

        return {
            "seed": self.seed,
            "webhooks": [rule(r) for r in self.webhooks],
            "answers": [rule(r) for r in self.answers],
        }

    def __bool__(self) -> bool:
        return bool(self.webhooks or self.answers)


class FaultChooser:
    """Decides, message by message, which rules fire (thread-safe, deterministic)."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        rules = [*plan.webhooks, *plan.answers]
        self._seen = {id(r): 0 for r in rules}
        self._fired = {id(r): 0 for r in rules}
        self._random = {
            id(r): random.Random(f"{plan.seed}:{r.section}:{r.position}") for r in rules
        }
        self._lock = threading.Lock()

    def webhook_faults(self, event: str) -> list[FaultRule]:
        """Every webhook rule that fires for this webhook (in plan order)."""
        return [r for r in self.plan.webhooks if self._fires(r, event, None)]

    def answer_fault(self, operation: str | None, event: str | None) -> FaultRule | None:
        """The first answer rule that fires for this request, if any."""
        for rule in self.plan.answers:
            if self._fires(rule, event, operation):
                return rule
        return None

    def _fires(self, rule: FaultRule, event: str | None, operation: str | None) -> bool:
        if not rule.applies_to(event, operation):
            return False
        key = id(rule)
        with self._lock:
            self._seen[key] += 1
            if self._seen[key] <= rule.skip:
                return False
            if rule.times and self._fired[key] >= rule.times:
                return False
            if rule.probability < 1.0 and self._random[key].random() >= rule.probability:
                return False
            self._fired[key] += 1
            return True


# ---------------------------------------------------------------- loading
@cache
def fault_plan_schema() -> dict[str, Any]:
    """The shipped JSON Schema of a fault plan."""
    text = (files("lotflow.simulators") / "faultplan.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Any:
    return jsonschema_rs.validator_for(fault_plan_schema())


def load_fault_plan(path: Path | str) -> FaultPlan:
    """Read and check a fault plan file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise FaultPlanError(f"{path}: cannot read the fault plan: {reason}") from exc
    return parse_fault_plan(text, str(path))


def parse_fault_plan(text: str, source: str = "<fault plan>") -> FaultPlan:
    """Check and build a plan from YAML text; ``source`` names it in errors."""
    try:
        data, positions = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise FaultPlanError(
            f"{source}{line}: not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    return _checked(data if data is not None else {}, positions, source)


def plan_from_flags(flags: Sequence[str], seed: int = 0) -> FaultPlan:
    """A plan from ``--fault NAME[:key=value,...]`` flags (the section follows from the name)."""
    data: dict[str, Any] = {"seed": seed, "webhooks": [], "answers": []}
    for flag in flags:
        rule = _flag_rule(flag)
        section = "answers" if rule["fault"] in ANSWER_FAULTS else "webhooks"
        _checked({section: [rule]}, None, f"--fault {flag!r}")
        data[section].append(rule)
    return _checked(data, None, "--fault")


def _flag_rule(flag: str) -> dict[str, Any]:
    name, _, rest = flag.partition(":")
    known = [*WEBHOOK_FAULTS, *ANSWER_FAULTS]
    if name not in known:
        near = closest(name, known)
        hint = f"; did you mean {near!r}?" if near else f"; expected one of: {', '.join(known)}"
        raise FaultPlanError(f"--fault {flag!r}: unknown fault {name!r}{hint}")
    rule: dict[str, Any] = {"fault": name}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise FaultPlanError(f"--fault {flag!r}: {item!r} is not key=value (e.g. times=2)")
        rule[key.strip()] = yaml.safe_load(value)
    return rule


def _checked(data: Any, positions: Positions | None, source: str) -> FaultPlan:
    """The plan of ``data``; positions None: no file lines to name (command-line flags)."""
    where = positions or Positions()
    problems = _schema_problems(data, where) or _parameter_problems(data, where)
    if problems:
        lines = sorted(set(problems))

        def at(line: int) -> str:
            return f"{source}:{line}" if positions is not None else source

        raise FaultPlanError("\n".join(f"{at(line)}: {message}" for line, message in lines))
    return FaultPlan(
        seed=int(data.get("seed", 0)),
        webhooks=tuple(_rule("webhooks", i, r) for i, r in enumerate(data.get("webhooks") or [])),
        answers=tuple(_rule("answers", i, r) for i, r in enumerate(data.get("answers") or [])),
    )


def _rule(section: str, position: int, raw: Mapping[str, Any]) -> FaultRule:
    return FaultRule(
        section,
        position,
        raw["fault"],
        _names(raw.get("event")),
        _names(raw.get("operation")),
        int(raw.get("skip", 0)),
        int(raw.get("times", 1)),
        float(raw.get("probability", 1.0)),
        {k: v for k, v in raw.items() if k not in _MATCHING},
    )


def _names(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


# ---------------------------------------------------------------- problems a person can act on
Problem = tuple[int, str]


def _schema_problems(data: Any, positions: Positions) -> list[Problem]:
    found: list[Problem] = []
    for error in _validator().iter_errors(data):
        location = tuple(error.instance_path)
        kind = str(error.kind.name)
        if kind == "additionalProperties":
            found += _unknown_keys(error, data, location, positions)
        else:
            found.append((positions.line(location), _message(kind, error, data, location)))
    return found


def _unknown_keys(
    error: Any, data: Any, location: tuple[Any, ...], positions: Positions
) -> list[Problem]:
    node: Any = fault_plan_schema()
    for part in list(error.schema_path)[:-1]:
        node = node[part]
    if "$ref" in node:  # a rule: its properties live under $defs
        node = fault_plan_schema()["$defs"][node["$ref"].rsplit("/", 1)[1]]
    allowed = list(node.get("properties", {}))
    where = "at the top level" if not location else f"in {describe(data, location)}"
    problems = []
    for key in error.kind.unexpected:
        near = closest(key, allowed)
        hint = f"; did you mean {near!r}?" if near else f"; expected one of: {', '.join(allowed)}"
        problems.append(
            (positions.key_line((*location, key)), f"unknown key {key!r} {where}{hint}")
        )
    return problems


def _message(kind: str, error: Any, data: Any, location: tuple[Any, ...]) -> str:
    where, seen = describe(data, location), json.dumps(error.instance, default=str)[:60]
    if kind == "enum":
        options = [str(o) for o in error.kind.options]
        near = closest(str(error.instance), options)
        hint = f"; did you mean {near!r}?" if near else ""
        return f"{where} is {seen}; expected one of: {', '.join(options)}{hint}"
    if kind == "required":
        return f"{where} is missing the required key {error.kind.property!r}"
    if kind == "type":
        wanted = " or ".join(TYPE_WORDS.get(t, t) for t in error.kind.types)
        return f"{where} is {seen}; expected {wanted}"
    if kind in ("minimum", "maximum"):
        bound = "at least" if kind == "minimum" else "at most"
        return f"{where} is {seen}; expected {bound} {error.kind.limit}"
    if kind == "oneOf":
        return f"{where} is {seen}; expected a name or a list of names"
    return f"{where} is {seen}: {error.message}"


def _parameter_problems(data: Mapping[str, Any], positions: Positions) -> list[Problem]:
    found: list[Problem] = []
    for section in ("webhooks", "answers"):
        for index, rule in enumerate(data.get(section) or []):
            for key in rule.keys() & PARAMETERS.keys():
                if rule["fault"] not in PARAMETERS[key]:
                    owners = ", ".join(sorted(PARAMETERS[key]))
                    message = (
                        f"{describe(data, (section, index))} has {key!r}, which does not apply to "
                        f"fault {rule['fault']!r}; it applies to: {owners}"
                    )
                    found.append((positions.key_line((section, index, key)), message))
    return found


def describe_faults() -> Iterable[tuple[str, str, str]]:
    """(section, fault, what it does) for every fault, for help texts and docs."""
    yield from (("webhooks", n, d) for n, d in WEBHOOK_FAULTS.items())
    yield from (("answers", n, d) for n, d in ANSWER_FAULTS.items())
