"""Where and how to call each operation: the runner takes this as data, built from the spec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lotflow.openapi import Operation, SecurityScheme, operations, security_schemes

__all__ = ["OperationRef", "known_operations", "operation_index"]


@dataclass(frozen=True)
class OperationRef:
    """An operation as the runner calls it: the portal that serves it, its entry in that
    portal's spec, and the security schemes that may authenticate it (from the spec's
    ``components.securitySchemes``), in the spec's order of preference."""

    portal: str
    operation: Operation
    schemes: tuple[SecurityScheme, ...] = ()

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
            index[op_id] = OperationRef(portal, op, schemes)
    return index


def known_operations(index: Mapping[str, OperationRef]) -> dict[str, str]:
    """operationId → portal: what :func:`lotflow.engine.loader.load_scenario` needs."""
    return {op_id: ref.portal for op_id, ref in index.items()}
