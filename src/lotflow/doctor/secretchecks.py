"""Static checks of the keys and secrets the two portals must share.

Per direction: the buyer signs lot events with ``PRODUCER_DASHBOARD_WEBHOOK_SECRET`` and the
producer verifies them with ``MARKETPLACE_WEBHOOK_SECRET`` (else ``BUYER_WEBHOOK_SECRET``); bid and
contract events with ``BUYER_WEBHOOK_SECRET``; the producer calls the buyer with ``BUYER_API_KEY``,
which the buyer checks against ``PRODUCER_API_KEY`` (and, on some routes of today's buyer,
``PRODUCER_DASHBOARD_API_KEY``). Secrets are compared as key bytes, shown only as fingerprints.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass

from lotflow.doctor.findings import Finding
from lotflow.doctor.keys import fingerprint, published_example, webhook_keys
from lotflow.doctor.pair import Pair, Portal, events, names, registry
from lotflow.errors import ConfigError
from lotflow.reference.common.settings import (
    MIN_KEY_BYTES,
    MIN_TOKEN_CHARS,
    parse_operators,
    weakness,
)
from lotflow.signing import secret_key, split_secrets

__all__ = ["secret_findings"]

_MISSING_WHY = {
    "buyer_key": (
        "the reference buyer refuses to start; a buyer that does not refuse checks producers' "
        "calls against no key: every call fails with 401, or, where code compares with an unset "
        "value, every caller gets in (it runs open)"
    ),
    "buyer_signing": (
        "the reference buyer refuses to start; a buyer that does not refuse sends webhooks "
        "unsigned or signed with an empty key anyone can forge: a careful producer refuses every "
        "one, a careless one accepts anyone's (it runs open)"
    ),
    "producer_key": (
        "the reference producer refuses to start; a producer that does not refuse calls the "
        "buyer without X-API-Key, so every lot fetch and bid gets 401"
    ),
    "producer_bids": (
        "the reference producer refuses to start; a producer that does not refuse either refuses "
        "every bid and contract webhook or, if it skips verification without a secret, accepts "
        "forged ones from anyone (it runs open)"
    ),
}


@dataclass(frozen=True)
class _Secret:
    """One configured secret: where it is set, what it is for, its key bytes."""

    portal: Portal
    name: str
    purpose: str
    key: bytes
    text: str = ""  # the configured value, when it differs from the key bytes

    @property
    def identities(self) -> tuple[bytes, ...]:
        return (self.key, self.text.encode()) if self.text else (self.key,)


def secret_findings(pair: Pair) -> Iterator[Finding]:
    """Every finding about keys and secrets."""
    yield from _missing(pair)
    yield from _strength(pair)
    yield from _webhook_matches(pair)
    yield from _api_key_matches(pair)
    yield from _reuse(pair)


def _missing(pair: Pair) -> Iterator[Finding]:
    n = names()
    for attribute, why in _MISSING_WHY.items():
        name: str = getattr(n, attribute)
        portal: Portal = "buyer" if attribute.startswith("buyer") else "producer"
        if pair.side(portal).get(name):
            continue
        meaning = registry(portal)[name].meaning
        yield Finding.on(
            portal,
            (name,),
            "missing-secret",
            f"{name} is missing or empty in {pair.side(portal).source}.",
            why[0].upper() + why[1:] + ".",
            f"Set {name} ({meaning}) to the value the other portal uses for it.",
        )


def _keys(pair: Pair, portal: Portal, name: str) -> list[bytes]:
    """The key bytes a variable holds ([] when unset or unreadable)."""
    value = pair.side(portal).get(name)
    if not value:
        return []
    if registry(portal).get(name) and registry(portal)[name].form == "webhook-secrets":
        try:
            return webhook_keys(value)
        except ConfigError:
            return []
    return [value.encode()]


def _configured(pair: Pair) -> list[_Secret]:
    """Every key and webhook secret set on either side, with its purpose."""
    found: list[_Secret] = []
    for portal in ("buyer", "producer"):
        for variable in registry(portal).values():
            value = pair.side(portal).get(variable.name)
            if variable.form == "webhook-secrets" and value:
                found += _webhook_secrets(portal, variable.name, value)
            if variable.form == "api-key":
                for name in (variable.name, *variable.aliases):
                    key = pair.side(portal).get(name).encode()
                    found += [_Secret(portal, name, "the API key", key)] if key else []
    return found


def _webhook_secrets(portal: Portal, name: str, value: str) -> list[_Secret]:
    purpose = "webhook signatures"
    try:
        return [_Secret(portal, name, purpose, secret_key(s), s) for s in split_secrets(value)]
    except ConfigError:
        return []  # reported as whsec-not-base64


def _strength(pair: Pair) -> Iterator[Finding]:
    for portal in ("buyer", "producer"):
        for variable in registry(portal).values():
            if variable.form == "webhook-secrets":
                yield from _webhook_strength(pair, portal, variable.name)
    for secret in _configured(pair):
        if secret.purpose == "the API key":
            yield from _weak(secret, MIN_TOKEN_CHARS, "characters")


def _webhook_strength(pair: Pair, portal: Portal, name: str) -> Iterator[Finding]:
    value = pair.side(portal).get(name)
    if not value:
        return
    try:
        keys = webhook_keys(value)
    except ConfigError as exc:
        yield Finding.on(
            portal,
            (name,),
            "whsec-not-base64",
            f"{name} in {pair.side(portal).source}: {exc}",
            "A whsec_ secret is the base64 of the key; the reference portal refuses to start and "
            "another portal either crashes on it or signs with a key the other side cannot match.",
            "Write whsec_ followed by the base64 of the key, or the plain secret without whsec_.",
        )
        return
    for key in keys:
        yield from _weak(_Secret(portal, name, "webhook signatures", key), MIN_KEY_BYTES, "bytes")


def _weak(secret: _Secret, minimum: int, unit: str) -> Iterator[Finding]:
    where = (secret.portal, (secret.name,))
    shown = f"{secret.name} (fingerprint {fingerprint(secret.key)})"
    problem = weakness(secret.key, minimum, unit)
    if problem:
        yield Finding.on(
            *where,
            "weak-secret",
            f"{shown} {problem}.",
            "A short or regular key can be guessed offline from one signed webhook or tried "
            "online against the API; the reference portals refuse to start with it.",
            "Generate a random one: python -c 'import secrets; print(secrets.token_urlsafe(32))'.",
        )
    published = published_example(secret.key)
    if published:
        yield Finding.on(
            *where,
            "example-secret",
            f"{shown} is {published}, published in documents anyone can read.",
            "Whoever read the example can sign webhooks or call the API as the other portal.",
            "Generate a random value and set it on both portals.",
        )


def _fingerprints(keys: list[bytes]) -> str:
    return " ".join(fingerprint(key) for key in keys)


def _profiles(pair: Pair) -> set[str]:
    n = names()
    return {
        pair.buyer.get(n.buyer_auth) or "standard",
        pair.producer.get(n.producer_auth) or "standard",
    }


def _credentials(pair: Pair, portal: Portal, name: str) -> list[bytes]:
    """What must match: the HMAC keys, or in the legacy bearer dialect the secrets' text (the
    buyer sends its first secret; the producer compares it with each of its own)."""
    if _profiles(pair) != {"legacy-bearer"}:
        return _keys(pair, portal, name)
    texts = [s.encode() for s in pair.side(portal).get(name).split()]
    return texts[:1] if portal == "buyer" else texts


def _webhook_matches(pair: Pair) -> Iterator[Finding]:
    """Per direction (skipped when the profiles differ: auth-profile-mismatch says it)."""
    n = names()
    if len(_profiles(pair)) > 1:
        return
    signing = _credentials(pair, "buyer", n.buyer_signing)
    lots = n.producer_lots if pair.producer.get(n.producer_lots) else n.producer_bids
    for kind, producer_name, delivered in (
        ("lot-secret-mismatch", lots, f"lot events ({events(lots=True)})"),
        ("bid-secret-mismatch", n.producer_bids, f"bid and contract events ({events(lots=False)})"),
    ):
        verifying = _credentials(pair, "producer", producer_name)
        if not signing or not verifying or set(signing) & set(verifying):
            continue
        fallback = (
            f" ({n.producer_lots} is unset, so {n.producer_bids} verifies lot events)"
            if producer_name != n.producer_lots and kind.startswith("lot")
            else ""
        )
        yield Finding(
            kind,
            f"The buyer signs {delivered} with {n.buyer_signing} (fingerprint "
            f"{_fingerprints(signing)}); the producer verifies them with {producer_name} "
            f"(fingerprint {_fingerprints(verifying)}){fallback}.",
            f"No signature matches: the producer answers 401 to every one of these deliveries, "
            f"the buyer retries until it gives up, and the producer never sees the {delivered}.",
            f"Set {producer_name} on the producer to the buyer's {n.buyer_signing} (compare the "
            "fingerprints), or list both during a rotation.",
            buyer=(n.buyer_signing,),
            producer=(producer_name,),
        )


def _api_key_matches(pair: Pair) -> Iterator[Finding]:
    n = names()
    sent = pair.producer.get(n.producer_key)
    key = pair.buyer.get(n.buyer_key)
    for alias in n.buyer_key_aliases:
        other = pair.buyer.get(alias)
        if key and other and not hmac.compare_digest(key.encode(), other.encode()):
            yield Finding(
                "api-key-alias-mismatch",
                f"{n.buyer_key} (fingerprint {fingerprint(key.encode())}) and {alias} (fingerprint "
                f"{fingerprint(other.encode())}) differ.",
                f"Today's buyer reads the producers' key from {n.buyer_key} on some routes and "
                f"from {alias} on others: one of them refuses the producer's calls with 401.",
                f"Give {alias} the same value as {n.buyer_key}, or remove it.",
                buyer=(n.buyer_key, alias),
            )
    if not sent:
        return
    for name in (n.buyer_key, *n.buyer_key_aliases):
        expected = pair.buyer.get(name)
        if expected and not hmac.compare_digest(expected.encode(), sent.encode()):
            yield Finding(
                "api-key-mismatch",
                f"The producer sends {n.producer_key} (fingerprint {fingerprint(sent.encode())}); "
                f"the buyer expects {name} (fingerprint {fingerprint(expected.encode())}).",
                "Every call of the producer (lot fetch, bid submission, counter-offer answer) "
                "gets 401 from the buyer.",
                f"Set the producer's {n.producer_key} to the buyer's {name} (compare them).",
                buyer=(name,),
                producer=(n.producer_key,),
            )


def _operator_tokens(pair: Pair) -> list[_Secret]:
    found = []
    for portal in ("buyer", "producer"):
        for variable in registry(portal).values():
            value = pair.side(portal).get(variable.name)
            if variable.form != "operators" or not value:
                continue
            try:
                operators = parse_operators(variable.name, value)
            except ConfigError:
                continue  # reported as an invalid value
            found += [
                _Secret(portal, variable.name, "an operator token", o.token.encode())
                for o in operators
            ]
    return found


def _reuse(pair: Pair) -> Iterator[Finding]:
    """One value used for two purposes: whoever holds it for one can act for the other. Values
    are the same when their key bytes or their configured texts are equal; one finding per
    value, naming every variable that holds it."""
    groups: list[list[_Secret]] = []
    for secret in [*_configured(pair), *_operator_tokens(pair)]:
        group = next((g for g in groups if _same(g, secret)), None)
        if group is None:
            groups.append([secret])
        else:
            group.append(secret)
    for group in groups:
        if len({s.purpose for s in group}) > 1:
            yield _reused(group)


def _same(group: list[_Secret], secret: _Secret) -> bool:
    return any(set(one.identities) & set(secret.identities) for one in group)


def _reused(group: list[_Secret]) -> Finding:
    held = ", ".join(dict.fromkeys(f"{s.name} ({s.portal})" for s in group))
    purposes = " and ".join(dict.fromkeys(s.purpose for s in group))
    return Finding(
        "secret-reused",
        f"{held} hold the same value (fingerprint {fingerprint(group[0].key)}), used for "
        f"{purposes}.",
        "Whoever holds it for one purpose can act for the other (e.g. a producer that knows "
        "the API key can forge the buyer's webhooks), and one leak exposes both.",
        "Give each purpose its own random value.",
        buyer=tuple(dict.fromkeys(s.name for s in group if s.portal == "buyer")),
        producer=tuple(dict.fromkeys(s.name for s in group if s.portal == "producer")),
    )
