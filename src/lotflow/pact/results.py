"""What a provider verification found, as data, and its JUnit XML and JSON forms."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

__all__ = ["InteractionResult", "PactResult", "VerificationReport"]


@dataclass(frozen=True)
class InteractionResult:
    """One interaction of one pact: passed, or failed with what did not match."""

    description: str
    states: tuple[str, ...]
    passed: bool
    mismatches: tuple[str, ...] = ()


@dataclass(frozen=True)
class PactResult:
    """One pact file verified against one provider."""

    pact: str
    consumer: str
    provider: str
    interactions: tuple[InteractionResult, ...]
    errors: tuple[str, ...] = ()  # failures that belong to no interaction
    output: str = field(default="", repr=False)  # the Pact core's own report, as text

    @property
    def passed(self) -> bool:
        return not self.errors and all(i.passed for i in self.interactions)

    def failed(self) -> list[InteractionResult]:
        return [i for i in self.interactions if not i.passed]


@dataclass(frozen=True)
class VerificationReport:
    """Every pact verified in one run."""

    provider_url: str
    pacts: tuple[PactResult, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return bool(self.pacts) and all(p.passed for p in self.pacts)

    def to_json(self) -> dict[str, Any]:
        return {
            "providerUrl": self.provider_url,
            "passed": self.passed,
            "pacts": [_pact_json(p) for p in self.pacts],
        }

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n", encoding="utf-8")

    def write_junit(self, path: Path) -> None:
        suites = ET.Element("testsuites", name="lotflow pact verify")
        for pact in self.pacts:
            failures = len(pact.failed()) + len(pact.errors)
            suite = ET.SubElement(
                suites,
                "testsuite",
                name=f"{pact.consumer} -> {pact.provider}",
                tests=str(len(pact.interactions) + len(pact.errors)),
                failures=str(failures),
            )
            for result in pact.interactions:
                case = ET.SubElement(
                    suite, "testcase", classname=pact.pact, name=result.description
                )
                if not result.passed:
                    failure = ET.SubElement(case, "failure", message="interaction did not match")
                    failure.text = "\n".join(result.mismatches)
            for error in pact.errors:
                case = ET.SubElement(suite, "testcase", classname=pact.pact, name="verification")
                ET.SubElement(case, "error", message=error[:200]).text = error
        ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def _pact_json(pact: PactResult) -> dict[str, Any]:
    found = asdict(pact)
    found.pop("output")
    return found | {"passed": pact.passed}
