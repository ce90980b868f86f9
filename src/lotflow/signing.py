"""Webhook signatures: Standard Webhooks with an injected clock, and the legacy bearer profile.

Standard Webhooks: the signed content is ``f"{msg_id}.{timestamp}.".encode() + raw_body``, the
MAC is HMAC-SHA256, and ``webhook-signature`` holds space-separated ``v1,<base64 MAC>`` entries,
one per active secret, so secrets can rotate without a flag day. A receiver verifies the raw bytes
(before parsing), accepts any ``v1`` entry that matches any of its secrets, and refuses a
timestamp further than the tolerance (5 minutes) from its clock, in either direction.

A secret ``whsec_<base64>`` means the decoded bytes; any other string means its UTF-8 bytes
(today's portals use plain strings such as ``dev-webhook-secret-456``).

The legacy profile is today's ``Authorization: Bearer <secret>``; lotflow reports it as a
deviation wherever it is used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from secrets import token_bytes

from lotflow.clock import Clock
from lotflow.errors import (
    ConfigError,
    InvalidSignatureError,
    MissingSignatureError,
    StaleTimestampError,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADERS",
    "WebhookVerifier",
    "legacy_bearer_headers",
    "new_webhook_secret",
    "secret_key",
    "sign",
    "signature_headers",
    "split_secrets",
    "verify_legacy_bearer",
]

DEFAULT_TOLERANCE = timedelta(minutes=5)
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_SECRET_PREFIX = "whsec_"  # noqa: S105 - the marker of a base64 secret, not a secret
_VERSION = "v1"
_TIMESTAMP_DIGITS = 12  # Unix seconds until the year 33658; longer is refused before int()


def secret_key(secret: str) -> bytes:
    """The HMAC key a configured secret stands for (see the module docstring)."""
    if not secret:
        raise ConfigError("A webhook secret is empty; expected whsec_<base64> or a plain string.")
    if not secret.startswith(_SECRET_PREFIX):
        return secret.encode("utf-8")
    try:
        return base64.b64decode(secret.removeprefix(_SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ConfigError(
            "A webhook secret starts with whsec_ but the rest is not valid base64; "
            "use whsec_ followed by base64, or a plain string without the prefix."
        ) from exc


def new_webhook_secret() -> str:
    """A fresh random secret in the ``whsec_<base64>`` form (24 random bytes)."""
    return _SECRET_PREFIX + base64.b64encode(token_bytes(24)).decode("ascii")


def split_secrets(value: str) -> list[str]:
    """The secrets of one setting that lists several (rotation), separated by commas or spaces."""
    found = [part for part in re.split(r"[\s,]+", value) if part]
    if not found:
        raise ConfigError("A webhook secret setting is empty; expected one or more secrets.")
    return found


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.digest(key, content, hashlib.sha256)).decode("ascii")


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one ``v1,<base64>`` entry per secret, space-separated."""
    if not secrets:
        raise ConfigError("Signing a webhook needs at least one secret; none was configured.")
    keys = [secret_key(secret) for secret in secrets]
    return " ".join(f"{_VERSION},{_signature(key, msg_id, timestamp, body)}" for key in keys)


def signature_headers(
    secrets: Sequence[str], msg_id: str, body: bytes, clock: Clock
) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, timestamped by ``clock``."""
    timestamp = int(clock.now().timestamp())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secrets, msg_id, timestamp, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name (fast for Starlette's case-insensitive headers)."""
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)


class WebhookVerifier:
    """Checks Standard Webhooks signatures against one or more secrets with an injected clock."""

    def __init__(
        self, secrets: Sequence[str], clock: Clock, tolerance: timedelta = DEFAULT_TOLERANCE
    ) -> None:
        if not secrets:
            raise ConfigError("A webhook verifier needs at least one secret; none was configured.")
        self._keys = [secret_key(secret) for secret in secrets]
        self._clock = clock
        self._tolerance = tolerance.total_seconds()

    def verify(self, headers: Mapping[str, str], body: bytes) -> str:
        """Return the webhook id when ``body`` carries a valid, fresh signature; raise otherwise.

        Raises ``MissingSignatureError`` when a header is absent, ``StaleTimestampError`` when the
        timestamp is outside the window, ``InvalidSignatureError`` when nothing matches.
        """
        msg_id, stamp, signatures = self._required(headers)
        timestamp = self._fresh_timestamp(stamp)
        candidates = _v1_signatures(signatures)
        for key in self._keys:
            expected = _signature(key, msg_id, timestamp, body).encode("ascii")
            if any(hmac.compare_digest(expected, given) for given in candidates):
                return msg_id
        raise InvalidSignatureError(
            f"No v1 signature in webhook-signature matches any configured secret for webhook "
            f"{msg_id!r}; check that both portals use the same secret and that the raw body was "
            "signed unchanged."
        )

    def _required(self, headers: Mapping[str, str]) -> tuple[str, str, str]:
        values = [_header(headers, name) for name in SIGNATURE_HEADERS]
        missing = [name for name, value in zip(SIGNATURE_HEADERS, values, strict=True) if not value]
        if missing:
            raise MissingSignatureError(
                f"Missing webhook signature header(s): {', '.join(missing)}; expected "
                f"{', '.join(SIGNATURE_HEADERS)} (Standard Webhooks)."
            )
        msg_id, stamp, signatures = (value or "" for value in values)
        return msg_id, stamp, signatures

    def _fresh_timestamp(self, stamp: str) -> int:
        stamp = stamp.strip()
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= _TIMESTAMP_DIGITS):
            raise InvalidSignatureError(
                f"webhook-timestamp {stamp[:24]!r}{'…' if len(stamp) > 24 else ''} is not Unix "
                f"seconds; expected an integer of at most {_TIMESTAMP_DIGITS} digits."
            )
        timestamp = int(stamp)
        skew = self._clock.now().timestamp() - timestamp
        if skew > self._tolerance:
            raise StaleTimestampError(
                f"webhook-timestamp {timestamp} is {skew:.0f}s old; at most "
                f"{self._tolerance:.0f}s is accepted (a replay, or the sender's clock is behind)."
            )
        if -skew > self._tolerance:
            raise StaleTimestampError(
                f"webhook-timestamp {timestamp} is {-skew:.0f}s in the future; at most "
                f"{self._tolerance:.0f}s is accepted (the sender's clock is ahead)."
            )
        return timestamp


def _v1_signatures(header: str) -> list[bytes]:
    """The base64 parts of the ``v1,`` entries; entries of other versions are ignored."""
    found = []
    for entry in header.split():
        version, _, value = entry.partition(",")
        if version == _VERSION and value:
            found.append(value.encode("ascii", "replace"))
    return found


def legacy_bearer_headers(secret: str) -> dict[str, str]:
    """Today's webhook authentication: the shared secret as a bearer token."""
    return {"Authorization": f"Bearer {secret}"}


def verify_legacy_bearer(headers: Mapping[str, str], secrets: Sequence[str]) -> None:
    """Accept ``Authorization: Bearer <secret>`` for any of ``secrets`` (constant time)."""
    scheme, _, token = (_header(headers, "authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingSignatureError(
            "Missing Authorization: Bearer <secret> header (legacy webhook profile)."
        )
    given = token.strip().encode("utf-8")
    matched = False
    for secret in secrets:  # compare with every secret: the time taken does not reveal which
        matched |= hmac.compare_digest(given, secret.encode("utf-8"))
    if not matched:
        raise InvalidSignatureError(
            "The bearer token matches no configured webhook secret (legacy webhook profile)."
        )
