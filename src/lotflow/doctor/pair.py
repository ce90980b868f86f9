"""The two portals' configurations side by side, and the names ``lotflow doctor`` reads.

Variable names come from the reference portals' settings registry (their fields' aliases), never
retyped here: :func:`names` looks each up by the settings field that reads it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from lotflow.doctor.envfile import EnvFile
from lotflow.openapi import load_portal_spec
from lotflow.reference.buyer.settings import BuyerSettings
from lotflow.reference.common.settings import PortalSettings, Variable
from lotflow.reference.producer.settings import ProducerSettings

__all__ = ["Address", "Names", "Pair", "Portal", "events", "lots_receiver", "names", "registry"]

Portal = Literal["buyer", "producer"]
PORT = "PORT"  # what today's Next.js portals listen on when set


@dataclass(frozen=True)
class Names:
    """The integration variables of both portals."""

    buyer_key: str
    buyer_key_aliases: tuple[str, ...]
    buyer_signing: str
    buyer_webhook_url: str
    buyer_auth: str
    producer_buyer_url: str
    producer_key: str
    producer_bids: str
    producer_lots: str
    producer_auth: str
    failure_limit: str  # both portals' limit on failed authentications


def _alias(settings: type[PortalSettings], field: str) -> str:
    return str(settings.model_fields[field].validation_alias)


@functools.cache
def names() -> Names:
    """The variable names, read from the settings classes."""
    key = _alias(BuyerSettings, "api_key_secret")
    return Names(
        buyer_key=key,
        buyer_key_aliases=registry("buyer")[key].aliases,
        buyer_signing=_alias(BuyerSettings, "webhook_secret_values"),
        buyer_webhook_url=_alias(BuyerSettings, "webhook_url"),
        buyer_auth=_alias(BuyerSettings, "webhook_auth"),
        producer_buyer_url=_alias(ProducerSettings, "buyer_url"),
        producer_key=_alias(ProducerSettings, "buyer_api_key_secret"),
        producer_bids=_alias(ProducerSettings, "bid_secret_values"),
        producer_lots=_alias(ProducerSettings, "lot_secret_values"),
        producer_auth=_alias(ProducerSettings, "webhook_auth"),
        failure_limit=_alias(BuyerSettings, "auth_failure_limit"),
    )


def receivers() -> dict[str, list[str]]:
    """The producer's receiver paths and the events the buyer delivers to each (the spec's
    ``x-lotflow-delivery-path`` of every webhook)."""
    found: dict[str, list[str]] = {}
    for event, item in load_portal_spec("buyer").get("webhooks", {}).items():
        found.setdefault(item["post"]["x-lotflow-delivery-path"], []).append(event)
    return found


def lots_receiver() -> str:
    """The receiver of lot events, which the lot secret verifies (the path ending in /lots)."""
    return next(path for path in receivers() if path.endswith("/lots"))


def events(*, lots: bool) -> str:
    """The events the lot secret verifies (``lots``), or those the bid secret verifies."""
    return ", ".join(
        event
        for path, names_ in receivers().items()
        if (path == lots_receiver()) == lots
        for event in names_
    )


def settings_class(portal: Portal) -> type[PortalSettings]:
    return BuyerSettings if portal == "buyer" else ProducerSettings


def registry(portal: Portal) -> dict[str, Variable]:
    """Every variable ``portal`` reads, by name."""
    return {v.name: v for v in settings_class(portal).variables()}


@dataclass(frozen=True)
class Address:
    """Where a portal listens, and how doctor knows it."""

    host: str
    port: int
    known_from: str  # "--buyer", "PORT in <file>", or "the spec's server (today's default)"

    @property
    def assumed(self) -> bool:
        """Only today's default: nothing in the files or arguments says where it listens."""
        return self.known_from.startswith("the spec")

    @property
    def live(self) -> bool:
        """Given as a live URL (``--buyer`` / ``--producer``)."""
        return self.known_from.startswith("--")


@dataclass(frozen=True)
class Pair:
    """Both configurations, and the live URLs given with ``--buyer`` / ``--producer``."""

    buyer: EnvFile
    producer: EnvFile
    buyer_url: str | None = None
    producer_url: str | None = None

    def side(self, portal: Portal) -> EnvFile:
        return self.buyer if portal == "buyer" else self.producer

    def address(self, portal: Portal) -> Address:
        """The portal's address: its live URL, else ``PORT`` in its file, else the spec's
        server (today's development port)."""
        live = self.buyer_url if portal == "buyer" else self.producer_url
        if live:
            parts = urlsplit(live)
            return Address(parts.hostname or "", _port(parts.scheme, parts.port), f"--{portal}")
        port = self.side(portal).get(PORT)
        if port.isdigit():
            return Address("localhost", int(port), f"{PORT} in {self.side(portal).source}")
        server = urlsplit(load_portal_spec(portal)["servers"][0]["url"])
        spec = "the spec's server (today's default)"
        return Address(server.hostname or "localhost", _port(server.scheme, server.port), spec)


def _port(scheme: str, port: int | None) -> int:
    return port or (443 if scheme == "https" else 80)
