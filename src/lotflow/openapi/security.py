"""Security schemes (``components.securitySchemes``): where a credential goes on a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lotflow.openapi.refs import resolve

__all__ = ["Credential", "SecurityScheme", "security_schemes"]


@dataclass(frozen=True)
class Credential:
    """A secret placed as a scheme asks: the headers and query parameters to send."""

    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SecurityScheme:
    """One declared scheme: ``kind`` is its ``type`` (``apiKey``, ``http``, ...); an apiKey
    names its ``location`` (``header``, ``query``, ``cookie``) and ``parameter``; an http
    scheme its ``http_scheme`` (``bearer``, ``basic``)."""

    name: str
    kind: str
    location: str | None = None
    parameter: str | None = None
    http_scheme: str | None = None

    @classmethod
    def from_spec(cls, name: str, raw: dict[str, Any]) -> SecurityScheme:
        scheme = raw.get("scheme")
        return cls(
            name=name,
            kind=str(raw.get("type", "")),
            location=raw.get("in"),
            parameter=raw.get("name"),
            http_scheme=scheme.lower() if isinstance(scheme, str) else None,
        )

    def present(self, secret: str) -> Credential | None:
        """``secret`` placed where this scheme reads it; None for a scheme a secret alone
        cannot satisfy (http basic, OAuth 2, OpenID Connect, mutual TLS)."""
        if self.kind == "http" and self.http_scheme == "bearer":
            return Credential(headers={"Authorization": f"Bearer {secret}"})
        if self.kind != "apiKey" or not self.parameter:
            return None
        if self.location == "header":
            return Credential(headers={self.parameter: secret})
        if self.location == "query":
            return Credential(query={self.parameter: secret})
        if self.location == "cookie":
            return Credential(headers={"Cookie": f"{self.parameter}={secret}"})
        return None


def security_schemes(spec: dict[str, Any]) -> dict[str, SecurityScheme]:
    """The document's security schemes by name."""
    declared = (spec.get("components") or {}).get("securitySchemes") or {}
    return {
        name: SecurityScheme.from_spec(name, resolve(spec, raw)) for name, raw in declared.items()
    }
