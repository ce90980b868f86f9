"""What ``lotflow doctor`` finds: data, with a stable id per kind, printed by reporters.

Every kind has an id that stays stable across versions (scripts and CI filters key on it), a
default severity and a title. A :class:`Finding` names the variables involved on both sides, says
what is wrong (secret values never appear: only fingerprints), why it breaks the integration and
how to fix it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "Finding", "Kind", "Severity"]


class Severity(enum.IntEnum):
    """How bad a finding is; ``--fail-on`` compares against it."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Kind:
    """One kind of finding."""

    id: str
    severity: Severity
    title: str


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
KINDS: dict[str, Kind] = {
    kind.id: kind
    for kind in (
        Kind("lot-secret-mismatch", _E, "lot events: signing and verifying secrets differ"),
        Kind("bid-secret-mismatch", _E, "bid and contract events: secrets differ"),
        Kind("api-key-mismatch", _E, "the producer's API key is not the buyer's"),
        Kind("api-key-alias-mismatch", _E, "the buyer's two API key variables differ"),
        Kind("missing-secret", _E, "a key or secret is missing or empty"),
        Kind("missing-url", _E, "the other portal's URL is missing"),
        Kind("weak-secret", _E, "a key or secret too short or too regular to resist guessing"),
        Kind("example-secret", _E, "a published example value used as a secret"),
        Kind("whsec-not-base64", _E, "a whsec_ secret whose rest is not base64"),
        Kind("secret-reused", _E, "one secret used for two purposes"),
        Kind("url-shape", _E, "a URL with a path where a base is read, or the reverse"),
        Kind("url-target", _E, "a URL pointing at the wrong host or port"),
        Kind("auth-profile-mismatch", _E, "one portal signs, the other expects a bearer secret"),
        Kind("legacy-bearer", _W, "the legacy bearer dialect is in use (security)"),
        Kind("no-failure-limit", _W, "failed authentications are not limited (a demo setting)"),
        Kind("invalid-value", _E, "a value the portal refuses at start-up"),
        Kind("duplicate-variable", _W, "a variable set more than once (the last wins)"),
        Kind("unparsed-line", _W, "a line the dotenv syntax cannot read (ignored)"),
        Kind("unknown-variable", _W, "an unknown variable close to a known one (a typo?)"),
        Kind("portal-unreachable", _E, "a portal does not answer at its URL"),
        Kind("operation-missing", _E, "a spec operation the live portal does not route"),
        Kind("delivery-refused", _E, "the live producer refuses a delivery signed per its file"),
        Kind("api-key-refused", _E, "the live buyer refuses the producer's API key"),
        Kind("probe-skipped", _I, "a live probe that could not run"),
    )
}


@dataclass(frozen=True)
class Finding:
    """One finding. ``buyer`` and ``producer`` name the variables on each side."""

    kind: str
    problem: str
    why: str
    fix: str
    buyer: tuple[str, ...] = ()
    producer: tuple[str, ...] = ()
    severity: Severity | None = None  # None: the kind's default

    @classmethod
    def on(
        cls,
        portal: str,
        names: tuple[str, ...],
        kind: str,
        *text: str,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding about variables of one portal (``text``: problem, why, fix)."""
        problem, why, fix = text
        if portal == "buyer":
            return cls(kind, problem, why, fix, buyer=names, severity=severity)
        return cls(kind, problem, why, fix, producer=names, severity=severity)

    @property
    def level(self) -> Severity:
        return self.severity or KINDS[self.kind].severity

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data."""
        return {
            "id": self.kind,
            "severity": self.level.label,
            "title": KINDS[self.kind].title,
            "buyer": list(self.buyer),
            "producer": list(self.producer),
            "problem": self.problem,
            "why": self.why,
            "fix": self.fix,
        }
