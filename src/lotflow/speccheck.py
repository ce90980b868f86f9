"""Checks that guard the contract: ``lotflow spec check`` and the spec tests both run these.

A broken file (unreadable, not YAML, an unresolvable ``$ref``) raises ``SpecError``; a document
that loads but breaks a rule is reported as a list of problems, each naming where it is.
Rules: both documents are valid OpenAPI 3.1; every example validates against its schema;
operationIds exist and are unique across both portals; every error response is problem+json;
every link names an operation of its document; the workflow machines agree with the documents.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lotflow import openapi
from lotflow.workflow import Workflow, check_workflow, load_workflow

PORTALS = ("buyer", "producer")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PROBLEM_JSON = "application/problem+json"


@dataclass
class PortalSummary:
    """What one portal document declares."""

    portal: str
    title: str
    version: str
    operations: dict[str, openapi.Operation]
    events: list[str]
    document: dict[str, Any] = field(repr=False)


@dataclass
class SpecReport:
    """The outcome of checking the whole contract."""

    root: Path
    portals: dict[str, PortalSummary]
    workflow: Workflow
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def spec_root() -> Path:
    """The shipped spec folder (holds ``openapi/`` and ``workflow.yaml``)."""
    return openapi.spec_dir().parent


def check_spec(root: Path | None = None) -> SpecReport:
    """Load and check both portal documents and the workflow under ``root``."""
    root = root or spec_root()
    portals = {p: _summarise(p, openapi.bundle(root / "openapi" / f"{p}.yaml")) for p in PORTALS}
    workflow = load_workflow(root / "workflow.yaml")
    problems: list[str] = []
    for summary in portals.values():
        problems += [f"{summary.portal}: {p}" for p in openapi.validate_spec(summary.document)]
        problems += [f"{summary.portal}: {p}" for p in _document_problems(summary.document)]
    problems += _duplicate_operation_ids(portals)
    problems += check_workflow(
        workflow,
        {p: list(s.operations) for p, s in portals.items()},
        portals["buyer"].events,
    )
    return SpecReport(root=root, portals=portals, workflow=workflow, problems=problems)


def _summarise(portal: str, doc: dict[str, Any]) -> PortalSummary:
    info = doc.get("info", {})
    return PortalSummary(
        portal=portal,
        title=str(info.get("title", portal)),
        version=str(info.get("version", "?")),
        operations=openapi.operations(doc),
        events=list(openapi.webhooks(doc)),
        document=doc,
    )


def _document_problems(doc: dict[str, Any]) -> list[str]:
    problems = list(_example_problems(doc))
    for where, operation in _all_operations(doc):
        if not operation.get("operationId"):
            problems.append(f"{where}: no operationId")
        problems += _response_problems(doc, where, operation)
    return problems


def _all_operations(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for section in ("paths", "webhooks"):
        for path, item in (doc.get(section) or {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    yield f"{method.upper()} {path}", item[method]


def _response_problems(doc: dict[str, Any], where: str, operation: dict[str, Any]) -> list[str]:
    problems = []
    operation_ids = {op for _, o in _all_operations(doc) if (op := o.get("operationId"))}
    for status, response in (operation.get("responses") or {}).items():
        response = _resolve(doc, response)
        content = response.get("content") or {}
        if str(status)[0] in "45" and content and PROBLEM_JSON not in content:
            problems.append(f"{where} {status}: error responses must be {PROBLEM_JSON}")
        for name, link in (response.get("links") or {}).items():
            if link.get("operationId") not in operation_ids:
                problems.append(f"{where} {status}: link {name} names unknown operation")
    return problems


def _example_problems(doc: dict[str, Any]) -> Iterator[str]:
    for name, schema in (doc.get("components", {}).get("schemas") or {}).items():
        examples = schema.get("examples") or []
        if not examples:
            yield f"schema {name}: has no example"
        validator = openapi.validator_for(doc, {"$ref": f"#/components/schemas/{name}"})
        for index, example in enumerate(examples, start=1):
            for error in validator.errors(example):
                yield f"schema {name}, example {index}: {error.field or '/'} {error.message}"


def _duplicate_operation_ids(portals: dict[str, PortalSummary]) -> list[str]:
    seen: dict[str, str] = {}
    problems = []
    for portal, summary in portals.items():
        ids = [o.get("operationId") for _, o in _all_operations(summary.document)]
        for op_id in filter(None, ids):
            if op_id in seen:
                problems.append(f"operationId {op_id!r} is used twice ({seen[op_id]}, {portal})")
            seen[op_id] = portal
    return problems


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target: Any = doc
    for part in ref[2:].split("/"):
        target = target[part]
    return dict(target)
