"""The reference producer's settings, from the portals' own environment variables.

Fail closed like the buyer (see ``reference.common.settings``): without the buyer's URL, the API
key, the webhook secret or the operators, or with a weak key, it refuses to start. Demo mode
generates the key, secret and operators, never the buyer's URL. The fields below are the
registry of every variable the producer reads (:meth:`ProducerSettings.variables`).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from lotflow.reference.common.settings import (
    Operator,
    PortalSettings,
    check_database_url,
    check_key,
    check_number,
    check_operators,
    check_url,
    check_webhook_secrets,
    env_field,
    revealed,
)
from pydantic import AfterValidator, BeforeValidator, SecretStr

__all__ = ["DEMO_ORGS", "ProducerSettings"]

DEMO_ORGS = ("Iberia Biofuels S.L.", "Baltic Renewables AB")
_SECRETS = "space-separated: whsec_<base64> or plain strings of at least 16 bytes"


class ProducerSettings(PortalSettings):
    """Everything the reference producer needs; build it with :meth:`from_env`."""

    PORTAL: ClassVar[str] = "producer"
    DEMO_OPERATORS: ClassVar[tuple[str, ...]] = DEMO_ORGS
    KEY_FIELD: ClassVar[str] = "buyer_api_key_secret"

    buyer_url: Annotated[
        str, BeforeValidator(check_url), AfterValidator(lambda url: url.rstrip("/"))
    ] = env_field(
        "NEXT_PUBLIC_BUYER_DASHBOARD_URL",
        "the buyer portal's base URL, e.g. http://localhost:3004",
        form="url",
    )
    buyer_api_key_secret: Annotated[SecretStr, BeforeValidator(check_key)] = env_field(
        "BUYER_API_KEY",
        "the API key this portal sends to the buyer in X-API-Key",
        form="api-key",
        demo=True,
    )
    bid_secret_values: Annotated[tuple[SecretStr, ...], BeforeValidator(check_webhook_secrets)] = (
        env_field(
            "BUYER_WEBHOOK_SECRET",
            f"the secret(s) that verify the buyer's bid and contract webhooks, {_SECRETS}",
            form="webhook-secrets",
            demo=True,
        )
    )
    lot_secret_values: Annotated[tuple[SecretStr, ...], BeforeValidator(check_webhook_secrets)] = (
        env_field(
            "MARKETPLACE_WEBHOOK_SECRET",
            f"the secret(s) that verify the buyer's lot webhooks (default: BUYER_WEBHOOK_SECRET), "
            f"{_SECRETS}",
            (),
            form="webhook-secrets",
        )
    )
    operators: Annotated[tuple[Operator, ...], BeforeValidator(check_operators)] = env_field(
        "LOTFLOW_PRODUCER_OPERATORS",
        'the producer\'s operators: a JSON list of {"orgId": "<24 hex>", "name": "...", '
        '"email": "...", "token": "..."}',
        form="operators",
        demo=True,
    )
    database_url: Annotated[str, BeforeValidator(check_database_url)] = env_field(
        "LOTFLOW_DATABASE_URL",
        "the SQLAlchemy database URL",
        "sqlite:///./lotflow-producer.sqlite3",
    )
    max_body_bytes: Annotated[int, BeforeValidator(check_number(integer=True, minimum=1024))] = (
        env_field(
            "LOTFLOW_MAX_BODY_BYTES", "the largest request body accepted, in bytes", 1_000_000
        )
    )
    buyer_timeout: Annotated[float, BeforeValidator(check_number(minimum=0.1))] = env_field(
        "LOTFLOW_BUYER_TIMEOUT", "the timeout of one call to the buyer, in seconds", 10.0
    )
    buyer_retries: Annotated[int, BeforeValidator(check_number(integer=True, zero_ok=True))] = (
        env_field("LOTFLOW_BUYER_RETRIES", "retries of a failed safe call to the buyer", 2)
    )

    @property
    def buyer_api_key(self) -> str:
        """The key sent to the buyer in ``X-API-Key`` (held as a secret; callers send text)."""
        return revealed(self.buyer_api_key_secret)[0]

    @property
    def bid_secrets(self) -> tuple[str, ...]:
        """The secrets that verify bid and contract webhooks (several during a rotation)."""
        return revealed(*self.bid_secret_values)

    @property
    def lot_secrets(self) -> tuple[str, ...]:
        """The secrets that verify lot webhooks: ``MARKETPLACE_WEBHOOK_SECRET``, else the
        bid ones."""
        return revealed(*self.lot_secret_values) or self.bid_secrets
