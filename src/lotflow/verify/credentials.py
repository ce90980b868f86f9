"""Credentials per party, as a real portal takes them: headers or cookies, from flags, the
environment or a file.

Real portals authenticate their own side their own way (a session cookie such as Clerk's
``__session``, or a bearer token from an identity provider) and lotflow cannot mint those: a team
gives what its portal takes. The producer's side of the buyer API takes the shared API key
(``X-API-Key``, or ``Authorization: Bearer <key>`` where the spec allows it), which verify needs
as a value, so that it can also try it wrong and in each allowed place. Unlike
``lotflow pact verify``, verify runs without a key too: the checks that need it are then not run.

The names and the file are ``lotflow pact verify``'s (``lotflow.pact.credentials``, whose parsers
this module uses), so one ``.env`` file serves both. Each value, the first that is set wins:
flags (``--api-key``, ``--operator-token``, ``--buyer-header 'Name: value'``,
``--buyer-cookie 'name=value'``), then the environment, then the ``--credentials`` file
(``NAME=value`` lines): ``BUYER_API_KEY`` or ``PRODUCER_API_KEY``,
``LOTFLOW_BUYER_OPERATOR_TOKEN`` (sent as ``Authorization: Bearer``),
``LOTFLOW_BUYER_OPERATOR_HEADERS`` and ``LOTFLOW_BUYER_OPERATOR_COOKIES`` (several separated by
``;``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lotflow.pact.credentials import (
    API_KEY_NAMES,
    COOKIES_NAME,
    HEADERS_NAME,
    TOKEN_NAME,
    parse_cookie,
    parse_header,
    read_env_file,
)

__all__ = ["Credentials", "VerifyCredentials", "load_credentials"]


@dataclass(frozen=True)
class Credentials:
    """Headers and cookies one party sends with every call (never shown in a repr)."""

    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    cookies: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __bool__(self) -> bool:
        return bool(self.headers or self.cookies)

    def as_headers(self) -> dict[str, str]:
        """The headers to send, the cookies folded into one ``Cookie`` header."""
        sent = dict(self.headers)
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return sent


@dataclass(frozen=True)
class VerifyCredentials:
    """What verify sends to a buyer portal: the producer's key (and any extra producer headers
    or cookies), and the operator credentials of the buyer's own side."""

    api_key: str | None = field(default=None, repr=False)
    producer: Credentials = field(default_factory=Credentials)
    operator: Credentials = field(default_factory=Credentials)


def load_credentials(
    *,
    api_key: str | None = None,
    operator_token: str | None = None,
    buyer_headers: Sequence[str] = (),
    buyer_cookies: Sequence[str] = (),
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> VerifyCredentials:
    """The credentials from flags, then ``env``, then ``file`` (see the module docstring)."""
    sources = [dict(env or {}), read_env_file(file) if file else {}]

    def first(*names: str) -> str | None:
        found = (s[n].strip() for s in sources for n in names if s.get(n, "").strip())
        return next(found, None)

    headers = dict(map(parse_header, list(buyer_headers) or _split(first(HEADERS_NAME))))
    token = operator_token or first(TOKEN_NAME)
    if token:
        headers.setdefault("Authorization", f"Bearer {token}")
    cookies = dict(map(parse_cookie, list(buyer_cookies) or _split(first(COOKIES_NAME))))
    return VerifyCredentials(
        api_key=api_key or first(*API_KEY_NAMES), operator=Credentials(headers, cookies)
    )


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]
