"""Credentials per party, as a real portal takes them: headers or cookies, from flags, the
environment or a file.

Real portals authenticate their own side their own way (a session cookie such as Clerk's
``__session``, or a bearer token from an identity provider) and lotflow cannot mint those: a team
gives what its portal takes. The producer's side of the buyer API takes the shared API key
(``X-API-Key``, or ``Authorization: Bearer <key>`` where the spec allows it), which verify needs
as a value, so that it can also try it wrong and in each allowed place.

Precedence: command-line flags, then the environment, then the file. The file is YAML or JSON::

    producer: {api_key: "...", headers: {...}, cookies: {...}}
    buyer: {headers: {Authorization: "Bearer ..."}, cookies: {__session: "..."}}

Environment: ``LOTFLOW_VERIFY_API_KEY`` (else the portals' own ``PRODUCER_API_KEY``), and
``LOTFLOW_VERIFY_BUYER_HEADERS`` / ``LOTFLOW_VERIFY_BUYER_COOKIES`` as JSON objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lotflow.errors import ConfigError

__all__ = ["Credentials", "VerifyCredentials", "load_credentials", "parse_cookie", "parse_header"]

API_KEY_ENV = ("LOTFLOW_VERIFY_API_KEY", "PRODUCER_API_KEY")
BUYER_HEADERS_ENV = "LOTFLOW_VERIFY_BUYER_HEADERS"
BUYER_COOKIES_ENV = "LOTFLOW_VERIFY_BUYER_COOKIES"


@dataclass(frozen=True)
class Credentials:
    """Headers and cookies one party sends with every call."""

    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.headers or self.cookies)

    def as_headers(self) -> dict[str, str]:
        """The headers to send, the cookies folded into one ``Cookie`` header."""
        sent = dict(self.headers)
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return sent

    def merged(self, other: Credentials) -> Credentials:
        """These credentials with ``other``'s added (``other`` wins on a clash)."""
        return Credentials({**self.headers, **other.headers}, {**self.cookies, **other.cookies})


@dataclass(frozen=True)
class VerifyCredentials:
    """What verify sends to a buyer portal: the producer's key (and any extra producer headers
    or cookies), and the operator credentials of the buyer's own side."""

    api_key: str | None = None
    producer: Credentials = field(default_factory=Credentials)
    operator: Credentials = field(default_factory=Credentials)


def parse_header(text: str) -> tuple[str, str]:
    """``"Name: value"`` as ``(name, value)``; a ``ConfigError`` naming the text otherwise."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or not value.strip() or " " in name.strip():
        raise ConfigError(
            f"Bad header {text!r}: expected 'Name: value', e.g. 'Authorization: Bearer T'."
        )
    return name.strip(), value.strip()


def parse_cookie(text: str) -> tuple[str, str]:
    """``"name=value"`` as ``(name, value)``; a ``ConfigError`` naming the text otherwise."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value:
        raise ConfigError(f"Bad cookie {text!r}: expected 'name=value', e.g. '__session=eyJ...'.")
    return name.strip(), value


def load_credentials(
    *,
    api_key: str | None = None,
    buyer_headers: Sequence[str] = (),
    buyer_cookies: Sequence[str] = (),
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> VerifyCredentials:
    """The credentials from flags, then ``env``, then ``file`` (each filling what is missing)."""
    env = env or {}
    from_file = _from_file(file) if file else VerifyCredentials()
    flags = Credentials(
        dict(map(parse_header, buyer_headers)), dict(map(parse_cookie, buyer_cookies))
    )
    from_env = Credentials(
        _json_object(env, BUYER_HEADERS_ENV), _json_object(env, BUYER_COOKIES_ENV)
    )
    key = api_key or next((env[name] for name in API_KEY_ENV if env.get(name)), None)
    return VerifyCredentials(
        api_key=key or from_file.api_key,
        producer=from_file.producer,
        operator=from_file.operator.merged(from_env).merged(flags),
    )


def _json_object(env: Mapping[str, str], name: str) -> dict[str, str]:
    text = env.get(name)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{name} is not JSON ({exc.msg}); expected an object of strings."
        ) from exc
    return _strings(value, name)


def _strings(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(f"{where} must be an object of string names to string values.")
    return dict(value)


def _from_file(path: Path) -> VerifyCredentials:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read the credentials file {path}: {exc}") from exc
    if not isinstance(data, dict) or set(data) - {"producer", "buyer"}:
        raise ConfigError(
            f"{path}: expected an object with 'producer' and/or 'buyer' (each with headers, "
            f"cookies; producer also api_key), got {_shape(data)}."
        )
    producer, buyer = data.get("producer") or {}, data.get("buyer") or {}
    key = producer.get("api_key")
    if key is not None and not isinstance(key, str):
        raise ConfigError(f"{path}: producer.api_key must be a string.")
    return VerifyCredentials(
        key, _party(producer, f"{path}: producer"), _party(buyer, f"{path}: buyer")
    )


def _party(data: Any, where: str) -> Credentials:
    if not isinstance(data, dict) or set(data) - {"headers", "cookies", "api_key"}:
        raise ConfigError(f"{where}: expected an object with 'headers' and/or 'cookies'.")
    return Credentials(
        _strings(data.get("headers") or {}, f"{where}.headers"),
        _strings(data.get("cookies") or {}, f"{where}.cookies"),
    )


def _shape(data: Any) -> str:
    return f"keys {sorted(data)}" if isinstance(data, dict) else repr(data)
