"""Credentials for driving a buyer portal lotflow does not own: the producer API key, and the
headers and cookies of the buyer's own side — one loader for ``lotflow verify`` and
``lotflow pact verify``.

A real buyer guards its producer-facing routes with the shared API key (``X-API-Key``, or
``Authorization: Bearer <key>`` where the spec allows it) and its own side with whatever its
identity provider issues (a session JWT as ``Authorization: Bearer``, Clerk's ``__session``
cookie, ...), which no tool can mint. So the operator's credentials are whatever headers and
cookies the team gives; lotflow sends them as given and never prints or reprs them.

Each value is looked up in this order, the first that is set wins:

1. command-line flags (``--api-key``, ``--operator-token``, ``--buyer-header 'Name: value'``,
   ``--buyer-cookie 'name=value'``; the last two may repeat);
2. the environment;
3. a credentials file in ``.env`` form (``NAME=value`` lines, ``#`` comments, ``export``,
   quotes), so a team can point at the ``.env`` its portals already use.

In the environment and the file: ``BUYER_API_KEY`` (the producer's name for the key) or
``PRODUCER_API_KEY`` (the buyer's), ``LOTFLOW_BUYER_OPERATOR_TOKEN`` (sent as ``Authorization:
Bearer <token>``), ``LOTFLOW_BUYER_OPERATOR_HEADERS`` and ``LOTFLOW_BUYER_OPERATOR_COOKIES``
(several separated by ``;``). The key may be absent (``lotflow verify`` then reports what needs
it as not run); :meth:`BuyerCredentials.require_key` is for the tools that cannot run without.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lotflow.errors import ConfigError

__all__ = [
    "API_KEY_NAMES",
    "COOKIES_NAME",
    "HEADERS_NAME",
    "TOKEN_NAME",
    "BuyerCredentials",
    "Credentials",
    "load_buyer_credentials",
    "parse_cookie",
    "parse_header",
    "read_env_file",
]

API_KEY_NAMES = ("BUYER_API_KEY", "PRODUCER_API_KEY")
TOKEN_NAME = "LOTFLOW_BUYER_OPERATOR_TOKEN"  # noqa: S105 - a variable name, not a secret
HEADERS_NAME = "LOTFLOW_BUYER_OPERATOR_HEADERS"
COOKIES_NAME = "LOTFLOW_BUYER_OPERATOR_COOKIES"


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
class BuyerCredentials:
    """What lotflow sends to a buyer portal: the producer's key (and any extra producer
    headers or cookies), and the operator credentials of the buyer's own side."""

    api_key: str | None = field(default=None, repr=False)
    producer: Credentials = field(default_factory=Credentials)
    operator: Credentials = field(default_factory=Credentials)

    @property
    def has_operator(self) -> bool:
        """Whether the buyer's own side can be driven (any operator header or cookie)."""
        return bool(self.operator)

    def operator_headers(self) -> dict[str, str]:
        """The headers an operator call carries (cookies joined into one ``Cookie`` header)."""
        return self.operator.as_headers()

    def require_key(self) -> str:
        """The producer key; a ``ConfigError`` saying where to give it when there is none."""
        if not self.api_key:
            raise ConfigError(
                "No producer API key: give --api-key, or set BUYER_API_KEY (or PRODUCER_API_KEY) "
                "in the environment or in the --credentials file."
            )
        return self.api_key


def parse_header(text: str) -> tuple[str, str]:
    """``'Name: value'`` as a pair; a ``ConfigError`` naming the text otherwise."""
    name, colon, value = text.partition(":")
    if not colon or not name.strip() or not value.strip() or " " in name.strip():
        raise ConfigError(
            f"Operator header {_shown(text)} is not 'Name: value' (e.g. 'Authorization: Bearer "
            "<session token>')."
        )
    return name.strip(), value.strip()


def parse_cookie(text: str) -> tuple[str, str]:
    """``'name=value'`` as a pair; a ``ConfigError`` naming the text otherwise."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip() or not value.strip():
        raise ConfigError(
            f"Operator cookie {_shown(text)} is not 'name=value' (e.g. '__session=<jwt>')."
        )
    return name.strip(), value.strip()


def _shown(text: str) -> str:
    """The start of a credential, enough to recognise it without revealing it."""
    return repr(text[:12] + "…") if len(text) > 12 else repr(text)


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of a ``.env`` file (``export`` and quotes around a value removed);
    a ``ConfigError`` naming the file, and the line that is not ``NAME=value``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the credentials file {path}: {exc}.") from exc
    found = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        if not equals or not name.strip():
            raise ConfigError(f"{path}:{number} is not a NAME=value line.")
        found[name.strip()] = value.strip().strip("'\"")
    return found


def load_buyer_credentials(
    *,
    api_key: str | None = None,
    operator_token: str | None = None,
    operator_headers: Sequence[str] = (),
    operator_cookies: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    file: Path | None = None,
) -> BuyerCredentials:
    """The credentials from flags, then ``env``, then ``file`` (see the module docstring)."""
    sources = [dict(env or {}), read_env_file(file) if file else {}]

    def first(*names: str) -> str | None:
        found = (s[n].strip() for s in sources for n in names if s.get(n, "").strip())
        return next(found, None)

    headers = dict(map(parse_header, list(operator_headers) or _split(first(HEADERS_NAME))))
    token = operator_token or first(TOKEN_NAME)
    if token:
        headers.setdefault("Authorization", f"Bearer {token}")
    cookies = dict(map(parse_cookie, list(operator_cookies) or _split(first(COOKIES_NAME))))
    return BuyerCredentials(
        api_key=api_key or first(*API_KEY_NAMES), operator=Credentials(headers, cookies)
    )


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]
