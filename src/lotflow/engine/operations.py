"""Where and how to call each operation: the runner takes this as data, built from the spec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lotflow.openapi import operations


@dataclass(frozen=True)
class OperationRef:
    """One operation: the portal that serves it, its method, its path template
    (``/api/lots/{lotId}``) and the names of the security schemes that may authenticate it,
    in the spec's order of preference."""

    portal: str
    method: str
    path: str
    security: tuple[str, ...] = ()


def operation_index(specs: Mapping[str, dict[str, Any]]) -> dict[str, OperationRef]:
    """operationId → :class:`OperationRef` for every operation of the given bundled portal
    documents (``{"buyer": ..., "producer": ...}``)."""
    return {
        op_id: OperationRef(
            portal,
            op.method.upper(),
            op.path,
            tuple(name for alternative in op.security for name in alternative),
        )
        for portal, spec in specs.items()
        for op_id, op in operations(spec).items()
    }


def known_operations(index: Mapping[str, OperationRef]) -> dict[str, str]:
    """operationId → portal: what :func:`lotflow.engine.loader.load_scenario` needs."""
    return {op_id: ref.portal for op_id, ref in index.items()}
