"""The reference buyer's settings, read from an environment mapping with the portals' own names.

Fail closed: without ``PRODUCER_API_KEY``, ``PRODUCER_DASHBOARD_WEBHOOK_SECRET`` or
``LOTFLOW_BUYER_OPERATORS`` (or with a weak one) the portal refuses to start (``ConfigError``
naming every problem at once), unless ``demo=True``, which generates the missing ones and records
them in ``generated`` so that the CLI can print them. The fields below are the registry of every
variable the buyer reads (:meth:`BuyerSettings.variables`); see ``reference.common.settings``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from lotflow.reference.common.settings import (
    Operator,
    PortalSettings,
    WebhookAuth,
    check_database_url,
    check_key,
    check_number,
    check_operators,
    check_switch,
    check_url,
    check_webhook_secrets,
    env_field,
    revealed,
)
from pydantic import BeforeValidator, SecretStr

__all__ = ["DEFAULT_DATABASE_URL", "BuyerSettings", "Operator", "WebhookAuth"]

DEFAULT_DATABASE_URL = "sqlite:///./lotflow-buyer.sqlite3"
WEBHOOK_PATH_MARKER = "/api/webhooks/"
DEMO_ORGANISATION = "Nordic Air Fuel Procurement"
_SECRETS = "space-separated: whsec_<base64> or plain strings of at least 16 bytes"


class BuyerSettings(PortalSettings):
    """Everything the reference buyer needs; build it with :meth:`from_env`."""

    PORTAL: ClassVar[str] = "buyer"
    DEMO_OPERATORS: ClassVar[tuple[str, ...]] = (DEMO_ORGANISATION,)
    KEY_FIELD: ClassVar[str] = "api_key_secret"

    api_key_secret: Annotated[SecretStr, BeforeValidator(check_key)] = env_field(
        "PRODUCER_API_KEY",
        "the API key producer portals send in X-API-Key",
        form="api-key",
        demo=True,
        aliases=("PRODUCER_DASHBOARD_API_KEY",),
    )
    webhook_secret_values: Annotated[
        tuple[SecretStr, ...], BeforeValidator(check_webhook_secrets)
    ] = env_field(
        "PRODUCER_DASHBOARD_WEBHOOK_SECRET",
        f"the secret(s) that sign every webhook to the producer, {_SECRETS}",
        form="webhook-secrets",
        demo=True,
    )
    operators: Annotated[tuple[Operator, ...], BeforeValidator(check_operators)] = env_field(
        "LOTFLOW_BUYER_OPERATORS",
        'the buyer\'s operators: a JSON list of {"orgId": "<24 hex>", "name": "...", '
        '"token": "..."}',
        form="operators",
        demo=True,
    )
    database_url: Annotated[str, BeforeValidator(check_database_url)] = env_field(
        "LOTFLOW_DATABASE_URL", "the SQLAlchemy database URL", DEFAULT_DATABASE_URL
    )
    webhook_url: Annotated[str | None, BeforeValidator(check_url)] = env_field(
        "PRODUCER_DASHBOARD_WEBHOOK_URL",
        "the producer portal's webhook URL (its base, or today's lots receiver "
        "http://localhost:3000/api/webhooks/lots); unset: webhooks wait in the outbox",
        None,
        form="url",
    )
    max_body_bytes: Annotated[int, BeforeValidator(check_number(integer=True))] = env_field(
        "LOTFLOW_MAX_BODY_BYTES", "the largest request body accepted, in bytes", 1_000_000
    )
    webhook_max_attempts: Annotated[int, BeforeValidator(check_number(integer=True))] = env_field(
        "LOTFLOW_WEBHOOK_MAX_ATTEMPTS", "delivery attempts per webhook", 24
    )
    webhook_backoff_base: Annotated[float, BeforeValidator(check_number(zero_ok=True))] = env_field(
        "LOTFLOW_WEBHOOK_BACKOFF_BASE", "the first retry's delay, in seconds", 1.0
    )
    webhook_backoff_cap: Annotated[float, BeforeValidator(check_number())] = env_field(
        "LOTFLOW_WEBHOOK_BACKOFF_CAP", "the longest delay between retries, in seconds", 21600.0
    )
    webhook_timeout: Annotated[float, BeforeValidator(check_number())] = env_field(
        "LOTFLOW_WEBHOOK_TIMEOUT", "the timeout of one delivery, in seconds", 10.0
    )
    answer_cache: Annotated[bool, BeforeValidator(check_switch)] = env_field(
        "LOTFLOW_ANSWER_CACHE",
        "on SQLite, answer repeated marketplace reads from a cache emptied by any lot change",
        True,
    )

    @property
    def api_key(self) -> str:
        """The key producers send in ``X-API-Key`` (held as a secret; callers compare text)."""
        return revealed(self.api_key_secret)[0]

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """The secrets that sign webhooks (several during a rotation)."""
        return revealed(*self.webhook_secret_values)

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
