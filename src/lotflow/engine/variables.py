"""``${name}`` substitution in scenario values.

- A string that is exactly ``${x}`` becomes the value of ``x`` with its JSON type (a number stays
  a number); inside a longer string the value is written as text (JSON for non-strings).
- Built-ins: ``${run_id}`` (set by the runner, unique per scenario run) and ``${now}``,
  ``${now+7d}``, ``${now-1h}`` (units s, m, h, d, w): an ISO-8601 UTC instant from the clock.
- ``$${x}`` is a literal ``${x}``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from lotflow.clock import isoformat

REFERENCE = re.compile(r"\$(\$?)\{([^}]*)\}")
RELATIVE = re.compile(r"^now(?:([+-])([0-9]+)([smhdw]))?$")
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


class UnknownVariableError(LookupError):
    """A ``${name}`` that no earlier step saved and that is not built in."""

    def __init__(self, name: str, known: Mapping[str, Any]) -> None:
        self.name = name
        self.known = sorted(known)
        near = difflib.get_close_matches(name, self.known, n=1, cutoff=0.6)
        hint = f"; did you mean ${{{near[0]}}}?" if near else ""
        saved = ", ".join(self.known) or "none"
        super().__init__(
            f"unknown variable ${{{name}}}: no earlier step saved it and it is not built in "
            f"(known: {saved}){hint}"
        )


def substitute(value: Any, variables: Mapping[str, Any], now: datetime) -> Any:
    """``value`` with every ``${name}`` replaced, recursively through lists and mappings."""
    if isinstance(value, str):
        return _substitute_text(value, variables, now)
    if isinstance(value, Mapping):
        return {
            substitute(key, variables, now): substitute(item, variables, now)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [substitute(item, variables, now) for item in value]
    return value


def resolve(name: str, variables: Mapping[str, Any], now: datetime) -> Any:
    """The value of one variable name (saved, or built in)."""
    if name in variables:
        return variables[name]
    relative = RELATIVE.match(name)
    if relative is None:
        raise UnknownVariableError(name, variables)
    sign, amount, unit = relative.groups()
    seconds = int(amount or 0) * SECONDS[unit or "s"] * (-1 if sign == "-" else 1)
    return isoformat((now + timedelta(seconds=seconds)).replace(microsecond=0))


def _substitute_text(text: str, variables: Mapping[str, Any], now: datetime) -> Any:
    whole = REFERENCE.fullmatch(text)
    if whole and not whole.group(1):
        return resolve(whole.group(2), variables, now)

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return "${" + match.group(2) + "}"
        return _as_text(resolve(match.group(2), variables, now))

    return REFERENCE.sub(replace, text)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
