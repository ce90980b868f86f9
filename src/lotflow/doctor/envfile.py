"""Reading a portal's ``.env`` file as teams write them, keeping what a reader needs to explain.

python-dotenv's parser does the dialect (comments, single and double quotes, ``export``, blank
values, escapes); this module adds what ``dotenv_values`` forgets: on which line each variable was
set, which were set more than once (the last wins, as in every dotenv loader), and which lines
could not be parsed at all.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv.parser import parse_stream

from lotflow.errors import ConfigError

__all__ = ["EnvFile", "read_env_file"]


@dataclass(frozen=True)
class EnvFile:
    """The variables of one file (or mapping), the last value of each winning."""

    source: str
    values: Mapping[str, str]
    lines: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # every line setting it
    unparsed: tuple[int, ...] = ()  # lines the dotenv syntax cannot read (ignored)

    def get(self, name: str) -> str:
        """The value of ``name``, stripped; "" when unset or blank."""
        return (self.values.get(name) or "").strip()

    def duplicates(self) -> dict[str, tuple[int, ...]]:
        """Variables set on more than one line."""
        return {name: found for name, found in self.lines.items() if len(found) > 1}

    def with_fallback(self, environ: Mapping[str, str], names: set[str]) -> EnvFile:
        """This file, with ``environ`` filling the variables among ``names`` it does not set."""
        extra = {n: environ[n] for n in sorted(names) if n not in self.values and n in environ}
        if not extra:
            return self
        return EnvFile(
            f"{self.source} + environment", {**self.values, **extra}, self.lines, self.unparsed
        )


def read_env_file(path: Path) -> EnvFile:
    """Parse ``path``; ``ConfigError`` (exit 2) when it cannot be read as text."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            f"Cannot read the env file {path}: {reason}; expected a readable .env file."
        ) from None
    return parse_env_text(text, str(path))


def parse_env_text(text: str, source: str) -> EnvFile:
    """The variables of dotenv ``text`` (named ``source`` in messages)."""
    values: dict[str, str] = {}
    lines: dict[str, list[int]] = {}
    unparsed: list[int] = []
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            unparsed.append(binding.original.line)
        elif binding.key is not None:
            values[binding.key] = binding.value or ""
            lines.setdefault(binding.key, []).append(binding.original.line)
    return EnvFile(source, values, {k: tuple(v) for k, v in lines.items()}, tuple(unparsed))
