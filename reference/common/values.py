"""The checks of single setting values, as pydantic validators: keys, tokens and webhook secrets
(with the strength every one needs), URLs, database URLs, switches, choices, numbers and operator
lists. Each refuses with a sentence saying what the value is and what was expected; the settings
module puts the variable's name (and the value, unless it is a secret) in front of it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from lotflow.errors import ConfigError
from lotflow.ids import is_object_id
from lotflow.signing import secret_key, split_secrets

__all__ = [
    "MIN_DISTINCT",
    "MIN_KEY_BYTES",
    "MIN_TOKEN_CHARS",
    "Operator",
    "check_choice",
    "check_database_url",
    "check_key",
    "check_number",
    "check_operators",
    "check_switch",
    "check_url",
    "check_webhook_secrets",
    "parse_operators",
    "refuse",
    "revealed",
    "weakness",
]

# Why these minimums. An HMAC-SHA256 key or an API key is only as strong as its guessable part:
# 16 bytes (128 bits) is the floor NIST SP 800-107 and the Standard Webhooks libraries' generated
# secrets (24 bytes) sit above, and it still admits the plain strings today's portals use
# (``dev-webhook-secret-456`` is 22 bytes). Tokens compared as text get the same floor in
# characters. Length alone lets ``aaaa...`` through, so a value must also use at least six
# distinct characters (bytes): a random value of this length all but always has twelve or more.
MIN_KEY_BYTES = 16
MIN_TOKEN_CHARS = 16
MIN_DISTINCT = 6

_REQUIRED_KEYS = ("orgId", "name", "token")
_OPTIONAL_KEYS = ("email",)
_OPERATORS = 'a non-empty JSON list of {"orgId": "<24 hex>", "name": "...", "token": "..."}'
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Operator:
    """An operator token's organisation."""

    org_id: str
    name: str
    token: str = field(repr=False)
    email: str | None = None


def weakness(value: bytes, minimum: int, unit: str = "bytes") -> str | None:
    """Why ``value`` is too weak to be a key (None when it is strong enough)."""
    if len(value) < minimum:
        return f"is {len(value)} {unit} long; expected at least {minimum} {unit} of random data"
    if len(set(value)) < MIN_DISTINCT:
        return (
            f"uses only {len(set(value))} distinct characters; expected a random value "
            f"(at least {MIN_DISTINCT} distinct characters, {minimum} {unit} or more)"
        )
    return None


def revealed(*secrets_: SecretStr) -> tuple[str, ...]:
    """The plain text of secrets, for the code that must send or compare them."""
    return tuple(secret.get_secret_value() for secret in secrets_)


def refuse(reason: str) -> PydanticCustomError:
    return PydanticCustomError("lotflow", "{reason}", {"reason": reason})


def check_key(value: Any) -> SecretStr:
    """An API key or token: text of at least ``MIN_TOKEN_CHARS`` with some variety."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    problem = weakness(text.encode(), MIN_TOKEN_CHARS, "characters")
    if problem:
        raise refuse(
            f"{problem} (e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )
    return SecretStr(text)


def check_webhook_secrets(value: Any) -> tuple[SecretStr, ...]:
    """Space- or comma-separated webhook secrets, each a usable HMAC key of ``MIN_KEY_BYTES``."""
    if isinstance(value, tuple):
        return value
    found = []
    for index, secret in enumerate(split_secrets(str(value)), start=1):
        try:
            key = secret_key(secret)
        except ConfigError as exc:
            raise refuse(f"secret {index}: {exc}") from None
        problem = weakness(key, MIN_KEY_BYTES)
        if problem:
            raise refuse(f"secret {index} (its HMAC key) {problem}; e.g. whsec_ + 24 random bytes")
        found.append(SecretStr(secret))
    return tuple(found)


def check_url(value: Any) -> str:
    """An http(s) URL with a host, as given."""
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refuse("is not an http(s) URL; expected e.g. http://localhost:3004")
    return str(value)


def check_database_url(value: Any) -> str:
    try:
        make_url(str(value))
    except ArgumentError:
        raise refuse(
            "is not a SQLAlchemy URL; expected e.g. sqlite:///./lotflow.sqlite3 or "
            "postgresql://user:password@host/db"
        ) from None
    return str(value)


def check_switch(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise refuse(f"is not a switch; expected one of {', '.join(_TRUE + _FALSE)}")


def check_choice(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise refuse(f"is not one of: {', '.join(choices)}")
        return str(value)

    return check


def check_number(
    *, integer: bool = False, minimum: float = 0, zero_ok: bool = False
) -> Callable[[Any], float]:
    """A finite number ≥ ``minimum`` (and > 0 unless ``zero_ok``); whole if ``integer``: a
    fraction where a whole number is expected is refused, never truncated."""
    kind = "a whole number" if integer else "a number"
    bound = f"≥ {minimum:g}" if minimum or zero_ok else "> 0"

    def check(value: Any) -> float:
        if isinstance(value, int | float):
            return value
        try:
            number = int(value) if integer else float(value)
        except ValueError:
            raise refuse(f"is not {kind}; expected {kind} {bound}") from None
        if not math.isfinite(number) or number < minimum or (number == 0 and not zero_ok):
            raise refuse(f"is out of range; expected {kind} {bound}")
        return number

    return check


def check_operators(value: Any) -> tuple[Operator, ...]:
    if isinstance(value, tuple):
        return value
    try:
        return parse_operators("", str(value))
    except ConfigError as exc:
        raise refuse(str(exc).lstrip(": ")) from None


def parse_operators(name: str, raw: str) -> tuple[Operator, ...]:
    """A JSON list of operator entries: ``orgId`` (24 hex), ``name`` and ``token`` (one per
    operator, at least ``MIN_TOKEN_CHARS``), optionally ``email``; naming the variable and the
    entry on any error (never a token's value)."""
    try:
        entries: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{name} is not JSON ({exc.msg} at character {exc.pos}); expected {_OPERATORS}"
        ) from None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{name} is not {_OPERATORS}")
    operators = tuple(_operator(name, index, entry) for index, entry in enumerate(entries))
    tokens = [o.token for o in operators]
    if len(set(tokens)) != len(tokens):
        raise ConfigError(f"{name}: two operators share a token; expected one token per operator")
    return operators


def _operator(name: str, index: int, entry: Any) -> Operator:
    where = f"{name}[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} is {type(entry).__name__}; expected an object")
    for key in _REQUIRED_KEYS:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            shown = "missing" if key not in entry else f"{type(value).__name__} {value!r:.40}"
            shown = "blank or not a string" if key == "token" and key in entry else shown
            raise ConfigError(
                f"{where} needs non-empty string orgId, name and token; {key} is {shown}"
            )
    unknown = sorted(set(entry) - set(_REQUIRED_KEYS) - set(_OPTIONAL_KEYS))
    if unknown:
        known = _REQUIRED_KEYS + _OPTIONAL_KEYS
        raise ConfigError(f"{where} has unknown key(s) {unknown}; expected only {known}")
    if not is_object_id(entry["orgId"]):
        raise ConfigError(f"{where}.orgId={entry['orgId']!r} is not 24 lowercase hex characters")
    problem = weakness(entry["token"].encode(), MIN_TOKEN_CHARS, "characters")
    if problem:
        raise ConfigError(f"{where}.token {problem}")
    email = entry.get("email")
    if email is not None and not isinstance(email, str):
        raise ConfigError(f"{where}.email is {type(email).__name__}; expected a string")
    return Operator(entry["orgId"], entry["name"], entry["token"], email or None)
