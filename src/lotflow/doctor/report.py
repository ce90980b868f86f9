"""Printing a doctor run: a terminal table (rich) or JSON. Secrets appear only as fingerprints.

:func:`configuration` is the side-by-side view of both files that the two teams compare;
:class:`DoctorResult` holds it with the findings and the exit code, which the reporters print.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, TextIO

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from lotflow.doctor.envfile import EnvFile
from lotflow.doctor.findings import Finding, Severity
from lotflow.doctor.keys import fingerprint, webhook_keys
from lotflow.doctor.pair import PORT, Pair, Portal, registry
from lotflow.errors import ConfigError
from lotflow.reference.common.settings import Variable, parse_operators

__all__ = ["DoctorResult", "JsonReporter", "TerminalReporter", "configuration"]

_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_UNSET = "—"


@dataclass(frozen=True)
class DoctorResult:
    """What one run found, and how it ends."""

    pair: Pair
    findings: list[Finding]
    fail_on: Severity

    @property
    def exit_code(self) -> int:
        """1 when a finding is at or above ``fail_on``, else 0."""
        return 1 if any(f.level >= self.fail_on for f in self.findings) else 0

    def counts(self) -> dict[str, int]:
        found = Counter(f.level for f in self.findings)
        return {severity.label: found[severity] for severity in reversed(Severity)}


def _shown(variable: Variable | None, name: str, side: EnvFile) -> str:
    """A value as it may be printed: secrets as fingerprints."""
    value = side.get(name)
    if not value:
        return _UNSET
    form = variable.form if variable else ""
    try:
        if form == "webhook-secrets":
            return " ".join(fingerprint(key) for key in webhook_keys(value))
        if form == "operators":
            return f"{len(parse_operators(name, value))} operator(s), tokens hidden"
    except ConfigError:
        return "(unreadable)"
    return fingerprint(value.encode()) if form == "api-key" else value


def configuration(pair: Pair) -> list[tuple[str, str, str]]:
    """(variable, buyer's value, producer's value) for every variable either portal reads that
    either file sets."""
    variables: dict[str, Variable | None] = {PORT: None}
    for portal in ("buyer", "producer"):
        for known in registry(portal).values():
            variables.update({n: known for n in (known.name, *known.aliases)})
    rows = []
    for name, variable in variables.items():
        shown = [_shown(variable, name, pair.side(side)) for side in ("buyer", "producer")]
        if shown != [_UNSET, _UNSET]:
            rows.append((name, shown[0], shown[1]))
    return rows


class TerminalReporter:
    """For a person: the configuration side by side (never wrapped inside a value: the table
    grows wider than the terminal rather than cutting one), then each finding as a block."""

    def __init__(self, stream: TextIO | None = None, *, width: int | None = None) -> None:
        self.stream = stream
        self.console = Console(file=stream, width=width, highlight=False)

    def report(self, result: DoctorResult) -> None:
        pair = result.pair
        self.console.print(
            f"lotflow doctor: buyer {pair.buyer.source} ↔ producer {pair.producer.source}",
            soft_wrap=True,
        )
        self._configuration(configuration(pair))
        for finding in sorted(result.findings, key=lambda f: -f.level):
            self._finding(finding)
        verdict = "clean" if not result.findings else _summary(result.counts())
        self.console.print(
            f"\n{verdict} — exit {result.exit_code} (--fail-on {result.fail_on.label})",
            style="bold green" if result.exit_code == 0 else "bold red",
        )

    def _configuration(self, rows: list[tuple[str, str, str]]) -> None:
        table = Table(title="Configuration (secrets as SHA-256 fingerprints, first 8 hex)")
        for header in ("variable", "buyer", "producer"):
            table.add_column(header, no_wrap=True)
        for row in rows:
            table.add_row(*row)
        columns = [("variable", "buyer", "producer"), *rows]
        needed = sum(max(len(row[i]) for row in columns) + 3 for i in range(3)) + 1
        wide = Console(file=self.stream, width=max(self.console.width, needed), highlight=False)
        wide.print(table)

    def _finding(self, finding: Finding) -> None:
        head = Text("\n")
        head.append(f"{finding.level.label.upper():8}", style=_STYLES[finding.level])
        head.append(f"{finding.kind}", style="bold")
        for portal, names_ in (("buyer", finding.buyer), ("producer", finding.producer)):
            if names_:
                head.append(f"   {portal}: {', '.join(names_)}")
        self.console.print(head, soft_wrap=True)
        for label, text in (("", finding.problem), ("why: ", finding.why), ("fix: ", finding.fix)):
            self.console.print(Padding(Text(label + text), (0, 0, 0, 8)))


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(
        f"{n} {label}{'s' if n != 1 and label != 'info' else ''}" for label, n in counts.items()
    )


class JsonReporter:
    """One JSON document for machines."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def report(self, result: DoctorResult) -> None:
        json.dump(self.document(result), self.stream, indent=2)
        self.stream.write("\n")

    @staticmethod
    def document(result: DoctorResult) -> dict[str, Any]:
        sides: dict[Portal, str] = {
            "buyer": result.pair.buyer.source,
            "producer": result.pair.producer.source,
        }
        return {
            "files": sides,
            "configuration": [
                {"variable": name, "buyer": buyer, "producer": producer}
                for name, buyer, producer in configuration(result.pair)
            ],
            "findings": [finding.to_dict() for finding in result.findings],
            "summary": result.counts(),
            "failOn": result.fail_on.label,
            "exitCode": result.exit_code,
        }
