"""Building a reference portal from an environment (used by ``lotflow serve``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PORTAL_NAMES = ("buyer", "producer")


def build_portal(name: str, env: Mapping[str, str], *, demo: bool) -> tuple[Any, Mapping[str, str]]:
    """The app of the named reference portal and the settings generated in demo mode."""
    if name == "buyer":
        from lotflow.reference.buyer.app import create_app as buyer_app
        from lotflow.reference.buyer.settings import BuyerSettings

        buyer = BuyerSettings.from_env(env, demo=demo)
        return buyer_app(buyer), buyer.generated
    from lotflow.reference.producer.app import create_app as producer_app
    from lotflow.reference.producer.settings import ProducerSettings

    producer = ProducerSettings.from_env(env, demo=demo)
    return producer_app(producer), producer.generated
