"""Credentials for driving a buyer portal: the producer API key and the operator's credentials.

A real buyer guards its producer-facing routes with the shared API key and its own side with
whatever its identity provider issues (a session JWT as ``Authorization: Bearer``, a
``__session`` cookie, ...), which no tool can mint. So the operator's credentials are whatever
headers and cookies the team gives; lotflow sends them as given and never prints them.

Each value is looked up in this order, the first that is set wins:

1. command-line flags (``--api-key``, ``--operator-token``, ``--operator-header 'Name: value'``,
   ``--operator-cookie 'name=value'``; the last two may repeat);
2. the environment;
3. a credentials file in ``.env`` form (``NAME=value`` lines, ``#`` comments), so a team can
   point at the ``.env`` its portals already use.

In the environment and the file: ``BUYER_API_KEY`` (the producer's name for the key) or
``PRODUCER_API_KEY`` (the buyer's), ``LOTFLOW_BUYER_OPERATOR_TOKEN`` (sent as ``Authorization:
Bearer <token>``), ``LOTFLOW_BUYER_OPERATOR_HEADERS`` and ``LOTFLOW_BUYER_OPERATOR_COOKIES``
(several separated by ``;``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lotflow.errors import ConfigError

__all__ = [
    "API_KEY_NAMES",
    "BuyerCredentials",
    "load_credentials",
    "parse_cookie",
    "parse_header",
    "read_env_file",
]

API_KEY_NAMES = ("BUYER_API_KEY", "PRODUCER_API_KEY")
TOKEN_NAME = "LOTFLOW_BUYER_OPERATOR_TOKEN"  # noqa: S105 - a variable name, not a secret
HEADERS_NAME = "LOTFLOW_BUYER_OPERATOR_HEADERS"
COOKIES_NAME = "LOTFLOW_BUYER_OPERATOR_COOKIES"


@dataclass(frozen=True)
class BuyerCredentials:
    """The producer API key and the operator's headers and cookies (never shown in a repr)."""

    api_key: str = field(repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    cookies: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def has_operator(self) -> bool:
        return bool(self.headers or self.cookies)

    def operator_headers(self) -> dict[str, str]:
        """The headers an operator call carries (cookies joined into one ``Cookie`` header)."""
        sent = dict(self.headers)
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies)
        return sent


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
    """``NAME=value`` lines of a ``.env`` file (quotes around a value removed)."""
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


def load_credentials(
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
        for source in sources:
            for name in names:
                if source.get(name, "").strip():
                    return source[name].strip()
        return None

    key = api_key or first(*API_KEY_NAMES)
    if not key:
        raise ConfigError(
            "No producer API key: give --api-key, or set BUYER_API_KEY (or PRODUCER_API_KEY) in "
            "the environment or in the --credentials file."
        )
    token = operator_token or first(TOKEN_NAME)
    header_texts = list(operator_headers) or _split(first(HEADERS_NAME))
    cookie_texts = list(operator_cookies) or _split(first(COOKIES_NAME))
    headers = [parse_header(h) for h in header_texts]
    if token:
        headers.insert(0, ("Authorization", f"Bearer {token}"))
    return BuyerCredentials(key, tuple(headers), tuple(parse_cookie(c) for c in cookie_texts))


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]
