"""``${name}`` substitution and JSON pointers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from lotflow.clock import isoformat

VARIABLE = re.compile(r"\$\{([^}]+)\}")
RELATIVE = re.compile(r"^now(?:([+-])([0-9]+)([smhd]))?$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MISSING = object()


class UnknownVariableError(KeyError):
    """A ``${name}`` that no earlier step saved and that is not built in."""


def resolve(name: str, variables: dict[str, Any], now: datetime) -> Any:
    if name in variables:
        return variables[name]
    match = RELATIVE.match(name)
    if match:
        sign, amount, unit = match.groups()
        offset = int(amount or 0) * SECONDS.get(unit or "s", 1) * (-1 if sign == "-" else 1)
        return isoformat((now + timedelta(seconds=offset)).replace(microsecond=0))
    raise UnknownVariableError(name)


def substitute(value: Any, variables: dict[str, Any], now: datetime) -> Any:
    """Replace ``${x}`` in strings (a whole-string ``${x}`` keeps the value's type), recursively."""
    if isinstance(value, str):
        whole = VARIABLE.fullmatch(value)
        if whole:
            return resolve(whole.group(1), variables, now)
        return VARIABLE.sub(lambda m: str(resolve(m.group(1), variables, now)), value)
    if isinstance(value, dict):
        return {
            substitute(k, variables, now): substitute(v, variables, now) for k, v in value.items()
        }
    if isinstance(value, list):
        return [substitute(v, variables, now) for v in value]
    return value


def pointer_get(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer, or ``MISSING``."""
    node = document
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node
