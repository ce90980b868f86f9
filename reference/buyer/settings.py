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

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from lotflow.reference.common.settings import EnvReader, Operator

from lotflow.errors import ConfigError

__all__ = ["DEFAULT_DATABASE_URL", "BuyerSettings", "Operator"]

DEFAULT_DATABASE_URL = "sqlite:///./lotflow-buyer.sqlite3"
WEBHOOK_PATH_MARKER = "/api/webhooks/"
DEMO_ORGANISATION = "Nordic Air Fuel Procurement"
WebhookAuth = Literal["standard", "legacy-bearer"]
_AUTH_PROFILES: tuple[WebhookAuth, ...] = ("standard", "legacy-bearer")


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
    webhook_max_attempts: int = 24
    webhook_backoff_base: float = 1.0
    webhook_backoff_cap: float = 21600.0
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
        read = EnvReader(env, demo)
        api_key = read.secret("PRODUCER_API_KEY", "the API key producer portals send in X-API-Key")
        secret_list = read.webhook_secrets(
            "PRODUCER_DASHBOARD_WEBHOOK_SECRET", "the secret(s) that sign webhooks"
        )
        operators = read.operators("LOTFLOW_BUYER_OPERATORS", (DEMO_ORGANISATION,))
        read.finish("buyer")
        _check_distinct(api_key, operators)
        webhook_url = read.url(
            "PRODUCER_DASHBOARD_WEBHOOK_URL",
            "the producer portal's webhook URL, e.g. http://localhost:3000/api/webhooks/lots",
        )
        return cls(
            api_key=api_key,
            webhook_secrets=secret_list,
            operators=operators,
            database_url=read.database_url("LOTFLOW_DATABASE_URL", DEFAULT_DATABASE_URL),
            webhook_url=webhook_url,
            webhook_auth=read.choice("LOTFLOW_WEBHOOK_AUTH", _AUTH_PROFILES),
            max_body_bytes=int(read.number("LOTFLOW_MAX_BODY_BYTES", 1_000_000, integer=True)),
            webhook_max_attempts=int(read.number("LOTFLOW_WEBHOOK_MAX_ATTEMPTS", 24, integer=True)),
            webhook_backoff_base=read.number("LOTFLOW_WEBHOOK_BACKOFF_BASE", 1.0, zero_ok=True),
            webhook_backoff_cap=read.number("LOTFLOW_WEBHOOK_BACKOFF_CAP", 21600.0),
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
