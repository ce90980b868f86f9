"""The checks verify knows: named units with a stable id, a description and a direction.

The built-in checks (``lotflow.verify.checks``) are registered the first time the registry is
read; another module can :func:`register` its own. A check is looked up by id; ``lotflow verify
--list-checks`` prints :func:`all_checks`, and ``docs/verify.md`` cites the ids. A check runs
against a :class:`~lotflow.verify.session.VerifySession` and yields one
:class:`~lotflow.verify.results.SubjectResult` per subject. What it needs (the producer's key,
the buyer's operator credentials) is declared as :class:`Requirement` s: when one is missing the
runner reports every subject of the check as not run, with the reason and what to provide, and
never runs it. The webhook and producer directions plug in the same way: a module of checks that
registers them with their direction.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lotflow.errors import ConfigError

if TYPE_CHECKING:
    from lotflow.verify.results import SubjectResult
    from lotflow.verify.session import VerifySession

__all__ = [
    "Check",
    "Direction",
    "Requirement",
    "all_checks",
    "get_check",
    "register",
    "select_checks",
]


class Direction(enum.StrEnum):
    """Which side of the integration a check looks at, and in which role."""

    BUYER_API = "buyer as API provider"
    BUYER_WORKFLOW = "buyer's workflow"
    BUYER_WEBHOOKS = "buyer as webhook sender"
    PRODUCER_RECEIVER = "producer as webhook receiver"
    PRODUCER_CLIENT = "producer as API client"

    @property
    def party(self) -> str:
        return "buyer" if self.name.startswith("BUYER") else "producer"


@dataclass(frozen=True)
class Requirement:
    """Something a check needs from the run's configuration."""

    name: str
    met: Callable[[VerifySession], bool]
    reason: str
    remedy: str


Runner = Callable[["VerifySession"], AsyncIterator["SubjectResult"]]
Subjects = Callable[["VerifySession"], Sequence[str]]


@dataclass(frozen=True)
class Check:
    """One named check: ``run`` yields a result per subject; ``subjects`` names them up front (so
    a check that cannot run still reports each subject as not run)."""

    id: str
    description: str
    direction: Direction
    run: Runner
    subjects: Subjects
    requires: tuple[Requirement, ...] = ()
    probes_credentials: bool = False
    """Sends missing or wrong credentials on purpose (a portal's limit on failed
    authentications counts them): such checks run after the others."""

    def unmet(self, session: VerifySession) -> Requirement | None:
        """The first requirement ``session`` does not meet, if any."""
        return next((r for r in self.requires if not r.met(session)), None)


_CHECKS: dict[str, Check] = {}
_loaded = False


def register(check: Check) -> Check:
    """Add ``check`` to the registry (its id must be new)."""
    _load_builtin()
    if check.id in _CHECKS:
        raise ValueError(f"A check with id {check.id!r} is already registered.")
    _CHECKS[check.id] = check
    return check


def _load_builtin() -> None:
    """Add the built-in checks the first time the registry is read."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from lotflow.verify.checks import builtin

    for check in builtin():
        register(check)


def all_checks(party: str | None = None) -> list[Check]:
    """Every registered check (of ``party``: ``buyer`` or ``producer``), in registration order."""
    _load_builtin()
    return [c for c in _CHECKS.values() if party is None or c.direction.party == party]


def get_check(check_id: str) -> Check:
    """The check with this id; a ``ConfigError`` naming the closest ids otherwise."""
    _load_builtin()
    try:
        return _CHECKS[check_id]
    except KeyError:
        close = difflib.get_close_matches(check_id, list(_CHECKS), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(
            f"No check named {check_id!r}.{hint} `lotflow verify --list-checks` lists them."
        ) from None


def select_checks(
    party: str, wanted: Sequence[str] = (), skipped: Sequence[str] = ()
) -> list[Check]:
    """The checks of ``party`` to run: those named (or all), minus those skipped. An id may end
    in ``*`` to name every check that starts with what precedes it."""
    checks = all_checks(party)
    chosen = _matching(checks, wanted) if wanted else checks
    dropped = {c.id for c in _matching(checks, skipped)}
    return [c for c in chosen if c.id not in dropped]


def _matching(checks: Sequence[Check], patterns: Sequence[str]) -> list[Check]:
    found: list[Check] = []
    for pattern in patterns:
        if pattern.endswith("*"):
            hits = [c for c in checks if c.id.startswith(pattern[:-1])]
        else:
            hits = [get_check(pattern)]
        if not hits:
            raise ConfigError(f"No check matches {pattern!r}; `lotflow verify --list-checks`.")
        found += [c for c in hits if c not in found and c in checks]
    return found
