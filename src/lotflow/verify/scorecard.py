"""The scorecard of a run: every result, counted by outcome, direction, check and subject.

The score is the share of subjects that passed, out of all subjects, so a subject that was not
run lowers it as much as one that failed: not run is never counted as passed. A failure the
baseline accepts still counts as failed in the score, but does not fail the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from lotflow.verify.results import Outcome, SubjectResult

if TYPE_CHECKING:
    from lotflow.verify.registry import Check

__all__ = ["EXIT_FAILED", "EXIT_OK", "Scorecard", "operation_of"]

EXIT_OK, EXIT_FAILED = 0, 1


def operation_of(subject: str) -> str:
    """The operation or event a subject names. Subjects read ``[<context>: ]<operation>[ or
    (<detail>)]``: ``submitBid``, ``submitBid same terms``,
    ``buyer.bid pending: decideBid(...)``, ``lot.published then lot.updated`` (the first)."""
    named = subject.rsplit(": ", 1)[-1]
    return named.split("(", 1)[0].split(" ", 1)[0]


@dataclass(frozen=True)
class Scorecard:
    target: str
    checks: tuple[Check, ...]
    results: tuple[SubjectResult, ...]
    seconds: float = 0.0

    def counts(self, results: Iterable[SubjectResult] | None = None) -> dict[str, int]:
        """How many passed, failed and were not run (and of the failed, how many are new)."""
        chosen = list(self.results if results is None else results)
        found = Counter(str(r.outcome) for r in chosen)
        new = sum(1 for r in chosen if r.outcome is Outcome.FAILED and not r.accepted)
        return {
            "passed": found["passed"],
            "failed": found["failed"],
            "not_run": found["not_run"],
            "new_failures": new,
            "total": len(chosen),
        }

    @property
    def score(self) -> float:
        """Percent of subjects that passed (100.0 for an empty run)."""
        total = len(self.results)
        passed = sum(1 for r in self.results if r.outcome is Outcome.PASSED)
        return round(100.0 * passed / total, 1) if total else 100.0

    def failures(self, *, new_only: bool = False) -> list[SubjectResult]:
        return [
            r for r in self.results if r.outcome is Outcome.FAILED and not (new_only and r.accepted)
        ]

    def check(self, check_id: str) -> Check:
        return next(c for c in self.checks if c.id == check_id)

    def by_check(self) -> dict[str, list[SubjectResult]]:
        grouped: dict[str, list[SubjectResult]] = {c.id: [] for c in self.checks}
        for result in self.results:
            grouped.setdefault(result.check_id, []).append(result)
        return grouped

    def by_direction(self) -> dict[str, list[SubjectResult]]:
        direction = {c.id: str(c.direction) for c in self.checks}
        grouped: dict[str, list[SubjectResult]] = {}
        for result in self.results:
            grouped.setdefault(direction[result.check_id], []).append(result)
        return grouped

    def by_operation(self) -> dict[str, list[SubjectResult]]:
        """Results by the operation (or event) their subject names (see :func:`operation_of`)."""
        grouped: dict[str, list[SubjectResult]] = {}
        for result in self.results:
            grouped.setdefault(operation_of(result.subject), []).append(result)
        return dict(sorted(grouped.items()))

    def exit_code(self, fail_under: float | None = None) -> int:
        """0 when no new failure and the score reaches ``fail_under``; 1 otherwise."""
        if self.failures(new_only=True):
            return EXIT_FAILED
        if fail_under is not None and self.score < fail_under:
            return EXIT_FAILED
        return EXIT_OK

    def with_results(self, results: Iterable[SubjectResult]) -> Scorecard:
        return replace(self, results=tuple(results))

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "score": self.score,
            "seconds": round(self.seconds, 3),
            "counts": self.counts(),
            "byDirection": {d: self.counts(rs) for d, rs in self.by_direction().items()},
            "byOperation": {o: self.counts(rs) for o, rs in self.by_operation().items()},
            "checks": [
                {
                    "id": c.id,
                    "description": c.description,
                    "direction": str(c.direction),
                    "counts": self.counts(self.by_check().get(c.id, [])),
                }
                for c in self.checks
            ],
            "results": [r.to_dict() for r in self.results],
        }
