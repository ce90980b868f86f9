"""The reference buyer's settings, read from an environment mapping with the portals' own names.

Fail closed: without ``PRODUCER_API_KEY``, ``PRODUCER_DASHBOARD_WEBHOOK_SECRET`` or
``LOTFLOW_BUYER_OPERATORS`` the portal refuses to start (``ConfigError`` naming every missing
variable and what it should hold), unless ``demo=True``, which generates the missing ones and
records them in ``generated`` so that the CLI can print them. A bad value is a ``ConfigError``
naming the variable, the value seen and what was expected.

Besides the portals' own names: ``LOTFLOW_DATABASE_URL``, ``LOTFLOW_BUYER_OPERATORS``,
``LOTFLOW_WEBHOOK_AUTH`` (standard | legacy-bearer), ``LOTFLOW_MAX_BODY_BYTES``,
``LOTFLOW_WEBHOOK_MAX_ATTEMPTS``, ``LOTFLOW_WEBHOOK_BACKOFF_BASE``, ``LOTFLOW_WEBHOOK_BACKOFF_CAP``,
``LOTFLOW_WEBHOOK_TIMEOUT``, ``LOTFLOW_VALIDATE_RESPONSES`` (default on: every answer is
checked against the spec, a contract-testing portal's own safety net; off saves that cost) and
``LOTFLOW_ANSWER_CACHE`` (default on: on SQLite, repeated marketplace reads are served from a
cache that any committed change to a lot empties; off queries the tables every time).
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from lotflow.errors import ConfigError
from lotflow.ids import is_object_id, new_object_id
from lotflow.signing import new_webhook_secret, secret_key

__all__ = ["DEFAULT_DATABASE_URL", "BuyerSettings", "Operator"]

DEFAULT_DATABASE_URL = "sqlite:///./lotflow-buyer.sqlite3"
WEBHOOK_PATH_MARKER = "/api/webhooks/"
DEMO_ORGANISATION = "Nordic Air Fuel Procurement"
WebhookAuth = Literal["standard", "legacy-bearer"]
_AUTH_PROFILES: tuple[WebhookAuth, ...] = ("standard", "legacy-bearer")
_OPERATOR_KEYS = ("orgId", "name", "token")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Operator:
    """A buyer operator: the organisation its token acts for."""

    org_id: str
    name: str
    token: str = field(repr=False)


@dataclass(frozen=True)
class BuyerSettings:
    """Everything the reference buyer needs; build it with :meth:`from_env`."""

    api_key: str = field(repr=False)
    webhook_secrets: tuple[str, ...] = field(repr=False)
    operators: tuple[Operator, ...]
    database_url: str = DEFAULT_DATABASE_URL
    webhook_url: str | None = None
    webhook_auth: WebhookAuth = "standard"
    max_body_bytes: int = 1_000_000
    webhook_max_attempts: int = 8
    webhook_backoff_base: float = 1.0
    webhook_backoff_cap: float = 3600.0
    webhook_timeout: float = 10.0
    validate_responses: bool = True  # each answer checked against the spec (500 if it breaks it)
    answer_cache: bool = True  # repeated marketplace reads answered from a cache (see answers)
    generated: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def webhook_base_url(self) -> str | None:
        """The producer portal's base URL: ``PRODUCER_DASHBOARD_WEBHOOK_URL`` before
        ``/api/webhooks/`` (today's value names the lots receiver), without a trailing slash."""
        if not self.webhook_url:
            return None
        base, _, _ = self.webhook_url.partition(WEBHOOK_PATH_MARKER)
        return base.rstrip("/")

    def organisation_name(self, org_id: str) -> str:
        """The display name of an operator organisation (its id when unknown)."""
        return next((o.name for o in self.operators if o.org_id == org_id), org_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, demo: bool = False) -> BuyerSettings:
        """Read the settings from ``env`` (see the module docstring)."""
        read = _EnvReader(env, demo)
        api_key = read.secret("PRODUCER_API_KEY", "the API key producer portals send in X-API-Key")
        secret_list = read.webhook_secrets("PRODUCER_DASHBOARD_WEBHOOK_SECRET")
        operators = read.operators("LOTFLOW_BUYER_OPERATORS")
        read.refuse_missing()
        _check_distinct(api_key, operators)
        return cls(
            api_key=api_key,
            webhook_secrets=secret_list,
            operators=operators,
            database_url=read.database_url("LOTFLOW_DATABASE_URL"),
            webhook_url=read.url("PRODUCER_DASHBOARD_WEBHOOK_URL"),
            webhook_auth=read.choice("LOTFLOW_WEBHOOK_AUTH", _AUTH_PROFILES),
            max_body_bytes=int(read.number("LOTFLOW_MAX_BODY_BYTES", 1_000_000, integer=True)),
            webhook_max_attempts=int(read.number("LOTFLOW_WEBHOOK_MAX_ATTEMPTS", 8, integer=True)),
            webhook_backoff_base=read.number("LOTFLOW_WEBHOOK_BACKOFF_BASE", 1.0, zero_ok=True),
            webhook_backoff_cap=read.number("LOTFLOW_WEBHOOK_BACKOFF_CAP", 3600.0),
            webhook_timeout=read.number("LOTFLOW_WEBHOOK_TIMEOUT", 10.0),
            validate_responses=read.flag("LOTFLOW_VALIDATE_RESPONSES", default=True),
            answer_cache=read.flag("LOTFLOW_ANSWER_CACHE", default=True),
            generated=dict(read.generated),
        )


def _check_distinct(api_key: str, operators: tuple[Operator, ...]) -> None:
    """An operator token equal to the producer key would let producers act as the buyer."""
    if any(secrets.compare_digest(o.token.encode(), api_key.encode()) for o in operators):
        raise ConfigError(
            "LOTFLOW_BUYER_OPERATORS holds a token equal to PRODUCER_API_KEY; expected operator "
            "tokens that differ from the key producers send (producers must not act as the buyer)."
        )


@dataclass
class _EnvReader:
    """Reads variables from ``env``; in demo mode generates the missing secrets."""

    env: Mapping[str, str]
    demo: bool
    generated: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def text(self, name: str) -> str:
        return self.env.get(name, "").strip()

    def secret(self, name: str, meaning: str) -> str:
        value = self.text(name)
        if value:
            return value
        return self._absent(name, meaning, lambda: secrets.token_urlsafe(24))

    def webhook_secrets(self, name: str) -> tuple[str, ...]:
        meaning = (
            "the secret(s) that sign webhooks, space-separated: whsec_<base64> or plain strings"
        )
        raw = self.text(name) or self._absent(name, meaning, new_webhook_secret)
        found = tuple(raw.split())
        for secret in found:
            try:
                secret_key(secret)
            except ConfigError as exc:
                raise ConfigError(f"{name}: {exc}") from exc
        return found

    def operators(self, name: str) -> tuple[Operator, ...]:
        raw = self.text(name)
        if raw:
            return _parse_operators(name, raw)
        meaning = 'a JSON list of {"orgId": "<24 hex>", "name": "...", "token": "..."}'
        made = self._absent(name, meaning, _demo_operators)
        return _parse_operators(name, made) if made else ()

    def _absent(self, name: str, meaning: str, make: Callable[[], str]) -> str:
        if not self.demo:
            self.missing.append(f"{name}: {meaning}")
            return ""
        value = make()
        self.generated[name] = value
        return value

    def refuse_missing(self) -> None:
        if self.missing:
            listed = "\n  - ".join(self.missing)
            raise ConfigError(
                "The buyer portal refuses to start without its key, webhook secret and operators "
                f"(it never runs open). Missing:\n  - {listed}\n"
                "Set them, or start in demo mode (--demo) to generate them."
            )

    def database_url(self, name: str) -> str:
        value = self.text(name) or DEFAULT_DATABASE_URL
        try:
            make_url(value)
        except ArgumentError:
            raise ConfigError(
                f"{name}={value!r} is not a SQLAlchemy URL; expected e.g. "
                "sqlite:///./lotflow-buyer.sqlite3 or postgresql://user:password@host/db."
            ) from None
        return value

    def url(self, name: str) -> str | None:
        value = self.text(name)
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"{name}={value!r} is not an http(s) URL; expected the producer portal's webhook "
                "URL, e.g. http://localhost:3000/api/webhooks/lots."
            )
        return value

    def choice(self, name: str, choices: tuple[WebhookAuth, ...]) -> WebhookAuth:
        value = self.text(name) or choices[0]
        for choice in choices:
            if value == choice:
                return choice
        raise ConfigError(f"{name}={value!r} is not allowed; expected one of {', '.join(choices)}.")

    def flag(self, name: str, *, default: bool) -> bool:
        value = self.text(name).lower()
        if not value:
            return default
        if value in _TRUE or value in _FALSE:
            return value in _TRUE
        raise ConfigError(f"{name}={value!r} is not a switch; expected one of {_TRUE + _FALSE}.")

    def number(
        self, name: str, default: float, *, integer: bool = False, zero_ok: bool = False
    ) -> float:
        raw = self.text(name)
        if not raw:
            return default
        kind = "a whole number" if integer else "a number"
        bound = "≥ 0" if zero_ok else "> 0"
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not {kind}; expected {kind} {bound}.") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
            raise ConfigError(f"{name}={raw!r} is out of range; expected {kind} {bound}.")
        return value


def _demo_operators() -> str:
    token = secrets.token_urlsafe(24)
    return json.dumps([{"orgId": new_object_id(), "name": DEMO_ORGANISATION, "token": token}])


def _parse_operators(name: str, raw: str) -> tuple[Operator, ...]:
    expected = 'a non-empty JSON list of {"orgId": "<24 hex>", "name": "...", "token": "..."}'
    try:
        entries: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{name}={raw[:80]!r} is not JSON ({exc.msg}); expected {expected}."
        ) from None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{name}={raw[:80]!r} is not {expected}.")
    operators = tuple(_operator(name, index, entry) for index, entry in enumerate(entries))
    tokens = [o.token for o in operators]
    if len(set(tokens)) != len(tokens):
        raise ConfigError(f"{name}: two operators share a token; expected one token per operator.")
    return operators


def _operator(name: str, index: int, entry: Any) -> Operator:
    where = f"{name}[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(
            f"{where} is {type(entry).__name__}; expected an object with {_OPERATOR_KEYS}."
        )
    unknown = sorted(set(entry) - set(_OPERATOR_KEYS))
    if unknown:
        raise ConfigError(f"{where} has unknown key(s) {unknown}; expected only {_OPERATOR_KEYS}.")
    for key in _OPERATOR_KEYS:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ConfigError(f"{where}.{key} is {entry.get(key)!r}; expected a non-empty string.")
    if not is_object_id(entry["orgId"]):
        raise ConfigError(f"{where}.orgId={entry['orgId']!r} is not 24 lowercase hex characters.")
    return Operator(org_id=entry["orgId"], name=entry["name"], token=entry["token"])
