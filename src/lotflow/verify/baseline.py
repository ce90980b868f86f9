"""Accepted deviations: a baseline file names failures a team knows about, by check id (and
subject), so that CI fails only on new ones.

The file is YAML or JSON::

    accepted:
      - check: buyer.api.problem-errors      # every subject of this check
        reason: "errors are {error} until the v2 API ships"
      - check: buyer.api.auth-before-body
        subject: submitBid                   # only this subject

``lotflow verify ... --write-baseline FILE`` writes the failures of a run in this form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from lotflow.errors import ConfigError
from lotflow.verify.results import Outcome, SubjectResult

__all__ = ["Acceptance", "Baseline", "load_baseline", "write_baseline"]


@dataclass(frozen=True)
class Acceptance:
    check: str
    subject: str | None = None
    reason: str = ""

    def covers(self, result: SubjectResult) -> bool:
        return result.check_id == self.check and self.subject in (None, result.subject)


@dataclass(frozen=True)
class Baseline:
    accepted: tuple[Acceptance, ...] = ()

    def apply(self, results: Iterable[SubjectResult]) -> list[SubjectResult]:
        """``results`` with every failure the baseline covers marked accepted."""
        return [
            replace(r, accepted=True)
            if r.outcome is Outcome.FAILED and any(a.covers(r) for a in self.accepted)
            else r
            for r in results
        ]


def load_baseline(path: Path, known_checks: Iterable[str]) -> Baseline:
    """The baseline in ``path``; a ``ConfigError`` naming what is wrong (an unknown check id
    included: a typo would otherwise accept nothing, silently)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read the baseline {path}: {exc}") from exc
    entries = data.get("accepted") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(
            f"{path}: expected an object with a list 'accepted' of {{check, subject?}}."
        )
    known = set(known_checks)
    return Baseline(tuple(_entry(path, i, entry, known) for i, entry in enumerate(entries)))


def _entry(path: Path, index: int, entry: object, known: set[str]) -> Acceptance:
    where = f"{path}: accepted[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("check"), str):
        raise ConfigError(f"{where}: expected {{check: <id>, subject?: <subject>}}, got {entry!r}.")
    if entry["check"] not in known:
        raise ConfigError(f"{where}: no check named {entry['check']!r}; see --list-checks.")
    subject = entry.get("subject")
    if subject is not None and not isinstance(subject, str):
        raise ConfigError(f"{where}: subject must be a string, got {subject!r}.")
    return Acceptance(entry["check"], subject, str(entry.get("reason", "")))


def write_baseline(path: Path, results: Iterable[SubjectResult]) -> int:
    """Write every failure of ``results`` as accepted; the number written."""
    entries = [
        {"check": r.check_id, "subject": r.subject, "reason": "accepted when the baseline was made"}
        for r in results
        if r.outcome is Outcome.FAILED
    ]
    path.write_text(json.dumps({"accepted": entries}, indent=2) + "\n", encoding="utf-8")
    return len(entries)
