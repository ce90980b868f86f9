"""Where and how to call each operation: the runner takes this as data, built from the spec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lotflow.openapi import Operation, SecurityScheme, operations, resolve, security_schemes

__all__ = ["OperationRef", "known_operations", "operation_index"]


@dataclass(frozen=True)
class OperationRef:
    """An operation as the runner calls it: the portal that serves it, its entry in that
    portal's spec, and the security schemes that may authenticate it (from the spec's
    ``components.securitySchemes``), in the spec's order of preference. ``answers`` are the
    top-level properties of its 200 JSON answer's schema and ``answers_required`` those the
    schema requires (what :mod:`lotflow.engine.finals` reads an entity with)."""

    portal: str
    operation: Operation
    schemes: tuple[SecurityScheme, ...] = ()
    answers: tuple[str, ...] = ()
    answers_required: tuple[str, ...] = ()

    @property
    def method(self) -> str:
        return self.operation.method.upper()

    @property
    def path(self) -> str:
        return self.operation.path

    @property
    def security(self) -> tuple[str, ...]:
        """The names of :attr:`schemes`."""
        return tuple(scheme.name for scheme in self.schemes)


def operation_index(specs: Mapping[str, dict[str, Any]]) -> dict[str, OperationRef]:
    """operationId → :class:`OperationRef` for every operation of the given bundled portal
    documents (``{"buyer": ..., "producer": ...}``)."""
    index = {}
    for portal, spec in specs.items():
        declared = security_schemes(spec)
        for op_id, op in operations(spec).items():
            names = dict.fromkeys(name for alternative in op.security for name in alternative)
            schemes = tuple(declared[name] for name in names if name in declared)
            index[op_id] = OperationRef(portal, op, schemes, *_answer_shape(spec, op))
    return index


def _answer_shape(spec: dict[str, Any], op: Operation) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The top-level properties of the 200 JSON answer's schema, and the required ones."""
    content = (op.responses.get("200") or {}).get("content") or {}
    schema = resolve(spec, (content.get("application/json") or {}).get("schema") or {})
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return (), ()
    return tuple(properties), tuple(str(name) for name in schema.get("required") or ())


def known_operations(index: Mapping[str, OperationRef]) -> dict[str, str]:
    """operationId → portal: what :func:`lotflow.engine.loader.load_scenario` needs."""
    return {op_id: ref.portal for op_id, ref in index.items()}
