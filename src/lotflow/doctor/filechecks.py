"""Static checks of each file on its own: duplicates, unreadable lines, typos, values the portal
refuses, and the webhook authentication profile on both sides."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from lotflow.doctor.findings import Finding
from lotflow.doctor.pair import PORT, Pair, Portal, names, registry, settings_class

__all__ = ["file_findings", "invalid_value_findings"]

_PORTALS: tuple[Portal, ...] = ("buyer", "producer")


def file_findings(pair: Pair) -> Iterator[Finding]:
    """Duplicates, unparsed lines, likely typos and the authentication profiles."""
    for portal in _PORTALS:
        yield from _duplicates(pair, portal)
        yield from _unparsed(pair, portal)
        yield from _unknown(pair, portal)
        yield from _no_failure_limit(pair, portal)
    yield from _auth_profiles(pair)


def _duplicates(pair: Pair, portal: Portal) -> Iterator[Finding]:
    side = pair.side(portal)
    for name, lines in side.duplicates().items():
        listed = ", ".join(map(str, lines))
        yield Finding.on(
            portal,
            (name,),
            "duplicate-variable",
            f"{name} is set on lines {listed} of {side.source}; the last (line {lines[-1]}) wins.",
            "Whoever edits the first line changes nothing, and two teams comparing the file may "
            "read different values.",
            f"Keep one {name} line.",
        )


def _unparsed(pair: Pair, portal: Portal) -> Iterator[Finding]:
    side = pair.side(portal)
    for line in side.unparsed:
        yield Finding.on(
            portal,
            (),
            "unparsed-line",
            f"Line {line} of {side.source} is not NAME=value; dotenv loaders skip it.",
            "A variable meant to be set there is not set.",
            "Write NAME=value (quotes around values with spaces or #), or comment the line out.",
        )


def _known() -> set[str]:
    found = {PORT}
    for portal in _PORTALS:
        for variable in registry(portal).values():
            found.update((variable.name, *variable.aliases))
    return found


def _unknown(pair: Pair, portal: Portal) -> Iterator[Finding]:
    known = _known()
    for name in pair.side(portal).values:
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.85)
        if close:
            yield Finding.on(
                portal,
                (name,),
                "unknown-variable",
                f"{name} in {pair.side(portal).source} is not a variable either portal reads; "
                f"did you mean {close[0]}?",
                f"The value is ignored, and {close[0]} keeps its default or stays missing.",
                f"Rename it to {close[0]}.",
            )


def _no_failure_limit(pair: Pair, portal: Portal) -> Iterator[Finding]:
    name = names().failure_limit
    if (pair.side(portal).get(name) or "").strip() != "0":
        return
    yield Finding.on(
        portal,
        (name,),
        "no-failure-limit",
        f"{name}=0 in {pair.side(portal).source}: failed authentications are not limited.",
        "Anyone who reaches the portal may guess API keys, operator tokens and webhook "
        "signatures as fast as it answers. The demo portals and `lotflow serve pair` run so "
        "(lotflow verify sends hundreds of wrong keys on purpose), not a deployed portal.",
        f"Remove {name} (the default is 30 a minute per client address), or set it to the "
        "limit your proxy does not already enforce.",
    )


def _auth_profiles(pair: Pair) -> Iterator[Finding]:
    n = names()
    profiles = {
        "buyer": (n.buyer_auth, pair.buyer.get(n.buyer_auth) or "standard"),
        "producer": (n.producer_auth, pair.producer.get(n.producer_auth) or "standard"),
    }
    for portal, (name, profile) in profiles.items():
        if profile == "legacy-bearer":
            yield Finding.on(
                portal,
                (name,),
                "legacy-bearer",
                f"{name}=legacy-bearer: webhooks carry the secret itself in Authorization: Bearer.",
                "A security finding: the secret travels with every delivery (logs and proxies "
                "see it), nothing binds it to the body or a time, so one captured request can be "
                "replayed or altered for good.",
                f"Move both portals to Standard Webhooks signatures ({name}=standard).",
            )
    (buyer_name, buyer), (producer_name, producer) = profiles["buyer"], profiles["producer"]
    if buyer != producer:
        yield Finding(
            "auth-profile-mismatch",
            f"The buyer authenticates webhooks as {buyer} ({buyer_name}); the producer expects "
            f"{producer} ({producer_name}).",
            "The producer finds no credentials it knows on any delivery and refuses every one.",
            f"Set {buyer_name} and {producer_name} to the same profile (standard).",
            buyer=(buyer_name,),
            producer=(producer_name,),
        )


def invalid_value_findings(pair: Pair, already: Iterable[Finding]) -> Iterator[Finding]:
    """Values the reference portal would refuse at start-up that no other finding covers."""
    for portal in _PORTALS:
        covered = {name for f in already for name in (f.buyer if portal == "buyer" else f.producer)}
        for name, sentence in settings_class(portal).problems(pair.side(portal).values):
            if name in covered or (not name and any(n in sentence for n in covered)):
                continue
            yield Finding.on(
                portal,
                (name,) if name else (),
                "invalid-value",
                f"{sentence} ({pair.side(portal).source})",
                f"The reference {portal} refuses to start with it; another portal may misread it.",
                "Correct the value as the message says.",
            )
