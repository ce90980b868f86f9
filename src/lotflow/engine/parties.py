"""The two parties a scenario runs between, as the runner knows them: URLs and credentials."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from lotflow.engine.operations import OperationRef
from lotflow.engine.tap import Delivery, HeldCopy, NetworkFault, WebhookLog


class TapControl(Protocol):
    """What the runner needs of the webhook tap: its log, the producer-outage switch, the
    network fault, releasing what it holds back, and the reset at a scenario's end."""

    log: WebhookLog
    down: bool
    fault: NetworkFault

    @property
    def held(self) -> list[HeldCopy]: ...

    def release(
        self, chosen: Callable[[HeldCopy], bool] = ..., *, reversed_: bool = False
    ) -> list[Delivery]: ...

    def reset(self) -> list[HeldCopy]: ...


@dataclass
class Parties:
    """The two parties under test, their credentials, and the tap between them.

    ``buyer_token`` is a buyer operator's Bearer token; ``buyer_api_key`` the producer API key the
    buyer accepts (``X-API-Key``); ``producer_tokens`` a producer operator Bearer token per alias.
    ``tap_url`` is the tap's base URL, the buyer's webhook URL must point under it (empty:
    unknown). ``operations`` says where each operationId lives (see :func:`operation_index`);
    the runner may also be given it directly.
    """

    buyer_url: str
    producer_url: str
    buyer_token: str
    buyer_api_key: str
    producer_tokens: Mapping[str, str]
    tap: TapControl | None = None
    operations: Mapping[str, OperationRef] = field(default_factory=dict)
    tap_url: str = ""

    def describe(self) -> dict[str, str]:
        """The parties for reports: URLs and aliases, never secrets."""
        return {
            "buyer": self.buyer_url,
            "producer": self.producer_url,
            "producer aliases": ", ".join(sorted(self.producer_tokens)) or "none",
            "webhook tap": "recording" if self.tap is not None else "none",
        }
