"""Static checks of the URLs each portal holds of the other.

The buyer's ``PRODUCER_DASHBOARD_WEBHOOK_URL``: today's buyer posts lot events to it as is, so it
names the producer's lots receiver; the reference buyer takes what comes before ``/api/webhooks/``
as the producer's base and routes each event to its receiver. So the lots receiver's full URL is
what both read correctly. The producer's ``NEXT_PUBLIC_BUYER_DASHBOARD_URL`` is a base: the
producer appends the operation paths. Each must point at the other portal's host and port.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from lotflow.doctor.findings import Finding, Severity
from lotflow.doctor.pair import Pair, Portal, lots_receiver, names
from lotflow.reference.buyer.settings import WEBHOOK_PATH_MARKER

__all__ = ["url_findings"]

_LOCAL = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104 - names, not a bind


def url_findings(pair: Pair) -> Iterator[Finding]:
    """Every finding about the two URLs."""
    yield from _missing(pair)
    yield from _webhook_url_shape(pair)
    yield from _buyer_url_shape(pair)
    n = names()
    yield from _target(pair, "buyer", n.buyer_webhook_url, "producer")
    yield from _target(pair, "producer", n.producer_buyer_url, "buyer")


def _missing(pair: Pair) -> Iterator[Finding]:
    n = names()
    if not pair.buyer.get(n.buyer_webhook_url):
        yield Finding.on(
            "buyer",
            (n.buyer_webhook_url,),
            "missing-url",
            f"{n.buyer_webhook_url} is missing or empty in {pair.buyer.source}.",
            "The buyer has nowhere to send webhooks: the reference buyer keeps them in its outbox, "
            "today's buyer drops them; the producer never hears of lots, bids or contracts.",
            f"Set {n.buyer_webhook_url} to the producer's lots receiver, "
            f"e.g. http://localhost:3000{lots_receiver()}.",
        )
    if not pair.producer.get(n.producer_buyer_url):
        yield Finding.on(
            "producer",
            (n.producer_buyer_url,),
            "missing-url",
            f"{n.producer_buyer_url} is missing or empty in {pair.producer.source}.",
            "The producer cannot fetch lots, submit bids or answer counter-offers; the reference "
            "producer refuses to start.",
            f"Set {n.producer_buyer_url} to the buyer's base URL, e.g. http://localhost:3004.",
        )


def _webhook_url_shape(pair: Pair) -> Iterator[Finding]:
    name = names().buyer_webhook_url
    url = pair.buyer.get(name)
    path = urlsplit(url).path.rstrip("/")
    if not url or path == lots_receiver():
        return
    receiver = lots_receiver()
    if not path:
        yield Finding.on(
            "buyer",
            (name,),
            "url-shape",
            f"{name}={url!r} is a base URL.",
            "The reference buyer reads it as a base, but today's buyer posts lot events to this "
            "URL as is, where no receiver answers.",
            f"Set the lots receiver's full URL, {url.rstrip('/')}{receiver}: both buyers read it.",
            severity=Severity.WARNING,
        )
        return
    yield Finding.on(
        "buyer",
        (name,),
        "url-shape",
        f"{name}={url!r} has the path {path!r}, not the lots receiver {receiver!r}.",
        f"Today's buyer posts lot events to {path!r}, which refuses them or does not exist; the "
        f"reference buyer takes everything before {WEBHOOK_PATH_MARKER!r} as the producer's "
        "base, so its deliveries miss the receivers too.",
        f"Set {name} to the producer's base followed by {receiver}.",
    )


def _buyer_url_shape(pair: Pair) -> Iterator[Finding]:
    name = names().producer_buyer_url
    url = pair.producer.get(name)
    path = urlsplit(url).path
    if "/api/" not in f"{path}/":
        return
    base = url[: url.index("/api")]
    yield Finding.on(
        "producer",
        (name,),
        "url-shape",
        f"{name}={url!r} holds an API path where the buyer's base URL is read.",
        f"The producer appends each operation's path to it, calling e.g. {path}/api/lots/external, "
        "which the buyer does not route (404).",
        f"Set {name} to the buyer's base, {base}.",
    )


def _same_host(one: str, other: str) -> bool:
    one, other = one.lower(), other.lower()
    return one == other or (one in _LOCAL and other in _LOCAL)


def _target(pair: Pair, portal: Portal, name: str, target: Portal) -> Iterator[Finding]:
    """``name`` (set on ``portal``) must reach ``target``, not ``portal`` itself."""
    url = pair.side(portal).get(name)
    parts = urlsplit(url)
    if not url or not parts.hostname:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    wanted, itself = pair.address(target), pair.address(portal)
    if not wanted.live and parts.hostname.lower() not in _LOCAL:
        return  # a real host: only a live URL says where the other portal is reached
    if _same_host(parts.hostname, wanted.host) and port == wanted.port:
        return
    loops = _same_host(parts.hostname, itself.host) and port == itself.port
    yield Finding.on(
        portal,
        (name,),
        "url-target",
        f"{name}={url!r} points at {parts.hostname}:{port}"
        + (f", the {portal} itself" if loops else "")
        + f"; the {target} listens on {wanted.host}:{wanted.port} ({wanted.known_from}).",
        f"Every {'webhook' if target == 'producer' else 'call'} goes to the wrong place and fails "
        f"(connection refused, 404, or the {portal} answering itself).",
        f"Point {name} at {wanted.host}:{wanted.port}, or pass --{target} with the real URL.",
        severity=Severity.WARNING if wanted.assumed and not loops else None,
    )
