"""The reference buyer's settings, from the portals' own environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lotflow.reference.common.settings import EnvReader, Operator

from lotflow.signing import split_secrets

DEMO_ORGS = ("Nordic Air Fuel Procurement",)


@dataclass(frozen=True)
class BuyerSettings:
    """Everything the reference buyer needs; build it with :meth:`from_env`."""

    database_url: str
    api_key: str
    webhook_base_url: str
    webhook_secrets: tuple[str, ...]
    operators: tuple[Operator, ...]
    webhook_auth: str = "standard"
    max_body_bytes: int = 1_000_000
    max_attempts: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 3600.0
    attempt_timeout: float = 10.0
    validate_responses: bool = True
    generated: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, demo: bool = False) -> BuyerSettings:
        """Read the settings; refuse (``ConfigError``) when a key, secret or operator is missing."""
        read = EnvReader(env, demo)
        api_key = read.secret("PRODUCER_API_KEY", "the API key producer portals send in X-API-Key")
        secrets = read.secret(
            "PRODUCER_DASHBOARD_WEBHOOK_SECRET",
            "the secret that signs webhooks (whsec_... or a string)",
            make="whsec",
        )
        operators = read.operators("LOTFLOW_BUYER_OPERATORS", DEMO_ORGS)
        webhook_url = read.url(
            "PRODUCER_DASHBOARD_WEBHOOK_URL", "the producer portal's webhook URL", required=False
        )
        read.finish("buyer")
        return cls(
            database_url=read.text("LOTFLOW_DATABASE_URL", "sqlite:///./lotflow-buyer.sqlite3"),
            api_key=api_key,
            webhook_base_url=webhook_url.split("/api/webhooks/")[0],
            webhook_secrets=tuple(split_secrets(secrets)),
            operators=operators,
            webhook_auth=read.choice("LOTFLOW_WEBHOOK_AUTH", ("standard", "legacy-bearer")),
            max_body_bytes=int(read.number("LOTFLOW_MAX_BODY_BYTES", 1_000_000, minimum=1024)),
            max_attempts=int(read.number("LOTFLOW_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)),
            backoff_base=read.number("LOTFLOW_WEBHOOK_BACKOFF_BASE", 1.0),
            backoff_cap=read.number("LOTFLOW_WEBHOOK_BACKOFF_CAP", 3600.0),
            attempt_timeout=read.number("LOTFLOW_WEBHOOK_TIMEOUT", 10.0, minimum=0.1),
            validate_responses=read.text("LOTFLOW_VALIDATE_RESPONSES", "1")
            not in ("0", "false", "no"),
            generated=dict(read.generated),
        )

    def org_name(self, org_id: str) -> str:
        return next((o.name for o in self.operators if o.org_id == org_id), org_id)
