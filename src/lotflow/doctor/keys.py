"""Secrets as ``lotflow doctor`` handles them: key bytes, fingerprints, published examples.

A value is never printed. Its fingerprint, the first 8 hex digits of the SHA-256 of the key bytes,
is: two teams compare fingerprints instead of pasting secrets into a chat. The key bytes of a
webhook secret are what the HMAC uses (``whsec_`` + base64 decoded, else the UTF-8 string), so
``whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTQ1Ng==`` and ``dev-webhook-secret-456`` are the same key.
"""

from __future__ import annotations

import hashlib

from lotflow.errors import ConfigError
from lotflow.signing import secret_key, split_secrets

__all__ = ["PUBLISHED_EXAMPLES", "fingerprint", "published_example", "webhook_keys"]

# Values printed in documents a team copies from: anyone who read them can forge with them.
PUBLISHED_EXAMPLES: dict[str, str] = {
    "dev-webhook-secret-456": "the integration map's example webhook secret",
    "dev-api-key-123": "the integration map's example API key",
    "dev-secret-key-123": "the integration map's example marketplace secret",
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw": "the Standard Webhooks documentation's example",
    "changeme": "a placeholder",
    "your-secret-here": "a placeholder",
    "your-api-key": "a placeholder",
    "secret": "a placeholder",
}


def fingerprint(key: bytes) -> str:
    """The first 8 hex digits of SHA-256 of ``key``: enough to compare, useless to forge."""
    return hashlib.sha256(key).hexdigest()[:8]


def webhook_keys(value: str) -> list[bytes]:
    """The HMAC key of each secret of a (rotation) list; ``ConfigError`` for a bad ``whsec_``."""
    return [secret_key(secret) for secret in split_secrets(value)]


def published_example(key: bytes) -> str | None:
    """Where ``key`` was published, when it is one of the well-known example values."""
    for value, where in PUBLISHED_EXAMPLES.items():
        try:
            if secret_key(value) == key:
                return where
        except ConfigError:  # pragma: no cover - the table holds only valid values
            continue
    return None
