"""The reference producer's settings, from the portals' own environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lotflow.reference.common.settings import EnvReader, Operator

DEMO_ORGS = ("Iberia Biofuels S.L.", "Baltic Renewables AB")


@dataclass(frozen=True)
class ProducerSettings:
    """Everything the reference producer needs; build it with :meth:`from_env`."""

    database_url: str
    buyer_url: str
    buyer_api_key: str
    bid_secrets: tuple[str, ...]
    lot_secrets: tuple[str, ...]
    operators: tuple[Operator, ...]
    webhook_auth: str = "standard"
    max_body_bytes: int = 1_000_000
    buyer_timeout: float = 10.0
    buyer_retries: int = 2
    validate_responses: bool = True
    generated: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, demo: bool = False) -> ProducerSettings:
        """Read the settings; refuse (``ConfigError``) when a URL, key, secret or operator is
        missing."""
        read = EnvReader(env, demo)
        buyer_url = read.url(
            "NEXT_PUBLIC_BUYER_DASHBOARD_URL",
            "the buyer portal's base URL, e.g. http://localhost:3004",
            required=True,
        )
        api_key = read.secret(
            "BUYER_API_KEY", "the API key this portal sends to the buyer in X-API-Key"
        )
        bid_secrets = read.webhook_secrets(
            "BUYER_WEBHOOK_SECRET", "the secret(s) that verify the buyer's webhooks"
        )
        operators = read.operators("LOTFLOW_PRODUCER_OPERATORS", DEMO_ORGS)
        read.finish("producer")
        lot_secrets = read.webhook_secrets(
            "MARKETPLACE_WEBHOOK_SECRET",
            "the secret(s) that verify the buyer's lot webhooks (default: BUYER_WEBHOOK_SECRET)",
            required=False,
        )
        return cls(
            database_url=read.database_url(
                "LOTFLOW_DATABASE_URL", "sqlite:///./lotflow-producer.sqlite3"
            ),
            buyer_url=(buyer_url or "").rstrip("/"),
            buyer_api_key=api_key,
            bid_secrets=bid_secrets,
            lot_secrets=lot_secrets or bid_secrets,
            operators=operators,
            webhook_auth=read.choice("LOTFLOW_WEBHOOK_AUTH", ("standard", "legacy-bearer")),
            max_body_bytes=int(read.number("LOTFLOW_MAX_BODY_BYTES", 1_000_000, minimum=1024)),
            buyer_timeout=read.number("LOTFLOW_BUYER_TIMEOUT", 10.0, minimum=0.1),
            buyer_retries=int(read.number("LOTFLOW_BUYER_RETRIES", 2, zero_ok=True)),
            validate_responses=read.flag("LOTFLOW_VALIDATE_RESPONSES", default=True),
            generated=dict(read.generated),
        )
