"""The reference producer's settings, from the portals' own environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lotflow.reference.common.settings import EnvReader, Operator

from lotflow.signing import split_secrets

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
            "NEXT_PUBLIC_BUYER_DASHBOARD_URL", "the buyer portal's base URL", required=True
        )
        api_key = read.secret(
            "BUYER_API_KEY", "the API key this portal sends to the buyer in X-API-Key"
        )
        bid_secret = read.secret(
            "BUYER_WEBHOOK_SECRET", "the secret that verifies the buyer's webhooks", make="whsec"
        )
        operators = read.operators("LOTFLOW_PRODUCER_OPERATORS", DEMO_ORGS)
        read.finish("producer")
        lot_secret = read.text("MARKETPLACE_WEBHOOK_SECRET") or bid_secret
        return cls(
            database_url=read.text("LOTFLOW_DATABASE_URL", "sqlite:///./lotflow-producer.sqlite3"),
            buyer_url=buyer_url,
            buyer_api_key=api_key,
            bid_secrets=tuple(split_secrets(bid_secret)),
            lot_secrets=tuple(split_secrets(lot_secret)),
            operators=operators,
            webhook_auth=read.choice("LOTFLOW_WEBHOOK_AUTH", ("standard", "legacy-bearer")),
            max_body_bytes=int(read.number("LOTFLOW_MAX_BODY_BYTES", 1_000_000, minimum=1024)),
            buyer_timeout=read.number("LOTFLOW_BUYER_TIMEOUT", 10.0, minimum=0.1),
            buyer_retries=int(read.number("LOTFLOW_BUYER_RETRIES", 2)),
            validate_responses=read.text("LOTFLOW_VALIDATE_RESPONSES", "1")
            not in ("0", "false", "no"),
            generated=dict(read.generated),
        )
