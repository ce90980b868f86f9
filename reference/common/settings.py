"""Reading portal settings from an environment mapping, failing closed with clear messages.

Both reference portals read their variables through :class:`EnvReader`: a missing key, secret,
operator list or required URL is collected (so that one error names every missing variable);
in demo mode the secrets and operators are generated instead and recorded in ``generated``; a
bad value is a ``ConfigError`` naming the variable, the value (never a secret's) and what was
expected.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from lotflow.errors import ConfigError
from lotflow.ids import is_object_id, new_object_id
from lotflow.signing import new_webhook_secret, secret_key, split_secrets

__all__ = ["EnvReader", "Operator", "parse_operators"]

_REQUIRED_KEYS = ("orgId", "name", "token")
_OPTIONAL_KEYS = ("email",)
_OPERATORS = 'a non-empty JSON list of {"orgId": "<24 hex>", "name": "...", "token": "..."}'
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
Choice = TypeVar("Choice", bound=str)


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

    def text(self, name: str, default: str = "") -> str:
        return self.env.get(name, "").strip() or default

    def secret(self, name: str, meaning: str) -> str:
        """A key or token; generated in demo mode."""
        return self.text(name) or self._absent(name, meaning, lambda: secrets.token_urlsafe(24))

    def webhook_secrets(self, name: str, meaning: str, *, required: bool = True) -> tuple[str, ...]:
        """One or more webhook secrets (several during a rotation), each a usable HMAC key;
        a required one is generated (``whsec_``) in demo mode, an optional one may be ()."""
        meaning += ", space-separated: whsec_<base64> or plain strings"
        raw = self.text(name)
        if not raw:
            if not required:
                return ()
            raw = self._absent(name, meaning, new_webhook_secret)
            if not raw:
                return ()
        found = tuple(split_secrets(raw))
        for secret in found:
            try:
                secret_key(secret)
            except ConfigError as exc:
                raise ConfigError(f"{name}: {exc}") from exc
        return found

    def operators(self, name: str, demo_names: tuple[str, ...]) -> tuple[Operator, ...]:
        """The operator list (see :func:`parse_operators`); one per name in demo mode."""
        raw = self.text(name)
        if raw:
            return parse_operators(name, raw)
        made = self._absent(name, _OPERATORS, lambda: _demo_operators(demo_names))
        return parse_operators(name, made) if made else ()

    def url(self, name: str, meaning: str, *, required: bool = False) -> str | None:
        """An http(s) URL as given, or None when unset (collected as missing if required)."""
        value = self.text(name)
        if not value:
            if required:
                self.missing.append(f"{name}: {meaning}")
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{name}={value!r} is not an http(s) URL; expected {meaning}.")
        return value

    def database_url(self, name: str, default: str) -> str:
        value = self.text(name, default)
        try:
            make_url(value)
        except ArgumentError:
            raise ConfigError(
                f"{name}={value!r} is not a SQLAlchemy URL; expected e.g. {default} or "
                "postgresql://user:password@host/db."
            ) from None
        return value

    def choice(self, name: str, choices: tuple[Choice, ...]) -> Choice:
        """One of ``choices``; the first when unset."""
        value = self.text(name) or choices[0]
        for choice in choices:
            if value == choice:
                return choice
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(choices)}.")

    def flag(self, name: str, *, default: bool) -> bool:
        value = self.text(name).lower()
        if not value:
            return default
        if value in _TRUE or value in _FALSE:
            return value in _TRUE
        raise ConfigError(f"{name}={value!r} is not a switch; expected one of {_TRUE + _FALSE}.")

    def number(
        self,
        name: str,
        default: float,
        *,
        integer: bool = False,
        minimum: float = 0,
        zero_ok: bool = False,
    ) -> float:
        """A finite number ≥ ``minimum`` (and > 0 unless ``zero_ok``); whole if ``integer``."""
        raw = self.text(name)
        if not raw:
            return default
        kind = "a whole number" if integer else "a number"
        bound = f"≥ {minimum:g}" if minimum or zero_ok else "> 0"
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not {kind}; expected {kind} {bound}.") from None
        if not math.isfinite(value) or value < minimum or (value == 0 and not zero_ok):
            raise ConfigError(f"{name}={raw!r} is out of range; expected {kind} {bound}.")
        return value

    def finish(self, portal: str) -> None:
        """Refuse to start when anything required is missing, naming each."""
        if self.missing:
            listed = "\n  - ".join(self.missing)
            raise ConfigError(
                f"The {portal} portal refuses to start without its keys, secrets and operators "
                f"(it never runs open). Missing:\n  - {listed}\n"
                "Set them, or start in demo mode (--demo) to generate the keys, secrets and "
                "operators."
            )

    def _absent(self, name: str, meaning: str, make: Callable[[], str]) -> str:
        if not self.demo:
            self.missing.append(f"{name}: {meaning}")
            return ""
        value = make()
        self.generated[name] = value
        return value


def _demo_operators(names: tuple[str, ...]) -> str:
    return json.dumps(
        [{"orgId": new_object_id(), "name": n, "token": secrets.token_urlsafe(24)} for n in names]
    )


def parse_operators(name: str, raw: str) -> tuple[Operator, ...]:
    """A JSON list of operator entries: ``orgId`` (24 hex), ``name`` and ``token`` (one per
    operator), optionally ``email``; naming the variable and the entry on any error."""
    try:
        entries: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{name} is not JSON ({exc.msg} at character {exc.pos}); expected {_OPERATORS}."
        ) from None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{name} is not {_OPERATORS}.")
    operators = tuple(_operator(name, index, entry) for index, entry in enumerate(entries))
    tokens = [o.token for o in operators]
    if len(set(tokens)) != len(tokens):
        raise ConfigError(f"{name}: two operators share a token; expected one token per operator.")
    return operators


def _operator(name: str, index: int, entry: Any) -> Operator:
    where = f"{name}[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} is {type(entry).__name__}; expected an object.")
    for key in _REQUIRED_KEYS:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            shown = "missing" if key not in entry else f"{value!r:.40}"
            raise ConfigError(
                f"{where} needs non-empty string orgId, name and token; {key} is {shown}."
            )
    unknown = sorted(set(entry) - set(_REQUIRED_KEYS) - set(_OPTIONAL_KEYS))
    if unknown:
        known = _REQUIRED_KEYS + _OPTIONAL_KEYS
        raise ConfigError(f"{where} has unknown key(s) {unknown}; expected only {known}.")
    if not is_object_id(entry["orgId"]):
        raise ConfigError(f"{where}.orgId={entry['orgId']!r} is not 24 lowercase hex characters.")
    email = entry.get("email")
    if email is not None and not isinstance(email, str):
        raise ConfigError(f"{where}.email is {type(email).__name__}; expected a string.")
    return Operator(entry["orgId"], entry["name"], entry["token"], email or None)
