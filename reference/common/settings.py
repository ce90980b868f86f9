"""Reading portal settings from an environment mapping, failing closed with clear messages."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from lotflow.errors import ConfigError
from lotflow.ids import new_object_id
from lotflow.signing import new_webhook_secret


@dataclass(frozen=True)
class Operator:
    """An operator token's organisation."""

    org_id: str
    name: str
    token: str = field(repr=False)
    email: str | None = None


@dataclass
class EnvReader:
    """Reads variables from ``env``; in demo mode, generates what is missing and remembers it."""

    env: Mapping[str, str]
    demo: bool = False
    generated: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def secret(self, name: str, meaning: str, make: str = "token") -> str:
        value = self.env.get(name, "").strip()
        if value:
            return value
        if not self.demo:
            self.missing.append(f"{name} ({meaning})")
            return ""
        value = new_webhook_secret() if make == "whsec" else secrets.token_urlsafe(24)
        self.generated[name] = value
        return value

    def text(self, name: str, default: str = "") -> str:
        return self.env.get(name, "").strip() or default

    def url(self, name: str, meaning: str, *, required: bool) -> str:
        value = self.text(name)
        if not value:
            if required:
                self.missing.append(f"{name} ({meaning})")
            return ""
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(
                f"{name}={value!r} is not an http(s) URL; expected {meaning}, e.g. http://localhost:3000."
            )
        return value.rstrip("/")

    def number(self, name: str, default: float, *, minimum: float = 0) -> float:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(
                f"{name}={raw!r} is not a number; expected a number ≥ {minimum}."
            ) from None
        if value < minimum:
            raise ConfigError(f"{name}={raw!r} is below {minimum}.")
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, choices[0])
        if value not in choices:
            raise ConfigError(f"{name}={value!r} is not one of: {', '.join(choices)}.")
        return value

    def operators(self, name: str, default_names: tuple[str, ...]) -> tuple[Operator, ...]:
        raw = self.text(name)
        if not raw:
            if not self.demo:
                self.missing.append(
                    f'{name} (JSON list of {{"orgId", "name", "token"}} operator entries)'
                )
                return ()
            made = tuple(
                Operator(new_object_id(), n, secrets.token_urlsafe(24)) for n in default_names
            )
            self.generated[name] = json.dumps(
                [{"orgId": o.org_id, "name": o.name, "token": o.token} for o in made]
            )
            return made
        return parse_operators(name, raw)

    def finish(self, portal: str) -> None:
        if self.missing:
            listed = "\n  - ".join(self.missing)
            raise ConfigError(
                f"The {portal} portal refuses to start without its keys and secrets (it never "
                f"runs open). "
                f"Missing:\n  - {listed}\nSet them, or start in demo mode (--demo) to generate "
                f"them."
            )


def parse_operators(name: str, raw: str) -> tuple[Operator, ...]:
    """Parse a JSON list of operator entries, naming the variable and entry on any error."""
    try:
        entries: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f'{name} is not JSON ({exc.msg}); expected a list of {{"orgId", "name", "token"}}.'
        ) from None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{name} must be a non-empty JSON list of operator entries.")
    operators = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) and entry.get(k) for k in ("orgId", "name", "token")
        ):
            raise ConfigError(
                f"{name}[{index}] needs non-empty string orgId, name and token; got {entry!r:.80}."
            )
        operators.append(
            Operator(entry["orgId"], entry["name"], entry["token"], entry.get("email"))
        )
    return tuple(operators)
