"""An :class:`~lotflow.explore.explorer.Exploration` for people and machines: terminal lines,
a JSON result, JUnit XML (one case per invariant family, the rules that could not run as
skipped cases), and the counterexample as a scenario file."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from xml.etree import ElementTree as ET

from lotflow.explore.explorer import Exploration
from lotflow.explore.printer import print_scenario

__all__ = ["lines", "write_reports"]

INVARIANTS = (
    "state",
    "transition",
    "version",
    "kept",
    "one contract",
    "applied once",
    "delivered",
    "agree",
    "no 5xx",
)


def lines(found: Exploration) -> list[str]:
    """What a person reads at the end of a run."""
    ran = ", ".join(f"{name} x{n}" for name, n in sorted(found.rules_run.items()))
    out = [f"Explored {found.runs} step lists. Rules run: {ran or 'none'}."]
    out += [f"Not run (needs control lotflow does not have here): {r}" for r in found.rules_not_run]
    if found.error:
        out.append(f"✗ the exploration stopped: {found.error}")
    if found.violations:
        out.append(f"✗ {len(found.violations)} invariant(s) broken after {len(found.steps)} steps:")
        out += [f"  - {v}" for v in found.violations]
        out += ["  Steps:"] + [f"    {n}. {s.title}" for n, s in enumerate(found.steps, start=1)]
    elif not found.error:
        out.append("✓ no invariant broken")
    return out


def scenario_text(found: Exploration) -> str:
    """The counterexample as a scenario file."""
    broken = "; ".join(str(v) for v in found.violations)
    return print_scenario(
        found.steps,
        name="Counterexample found by lotflow explore",
        description=f"Found by lotflow explore: {broken}",
        aliases=found.aliases or ("alpha",),
    )


def write_reports(found: Exploration, out: Path) -> list[Path]:
    """Write ``result.json``, ``junit.xml`` and, when something broke, ``counterexample.yaml``."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "result.json", out / "junit.xml"]
    result = {
        "ok": found.ok,
        "runs": found.runs,
        "rulesRun": found.rules_run,
        "rulesNotRun": found.rules_not_run,
        "violations": [asdict(v) for v in found.violations],
        "steps": [s.title for s in found.steps],
        "error": found.error or None,
    }
    written[0].write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    written[1].write_bytes(_junit(found))
    if found.violations:
        written.append(out / "counterexample.yaml")
        written[-1].write_text(scenario_text(found), encoding="utf-8")
    return written


def _junit(found: Exploration) -> bytes:
    suite = ET.Element("testsuite", name="lotflow explore")
    failures = skipped = 0
    for invariant in INVARIANTS:
        case = ET.SubElement(suite, "testcase", classname="explore.invariants", name=invariant)
        broken = [str(v) for v in found.violations if v.invariant == invariant]
        if broken:
            failures += 1
            ET.SubElement(case, "failure", message=broken[0]).text = "\n".join(broken)
    for rule in found.rules_not_run:
        skipped += 1
        case = ET.SubElement(suite, "testcase", classname="explore.rules", name=rule)
        ET.SubElement(case, "skipped", message="needs control lotflow does not have here")
    if found.error:
        failures += 1
        case = ET.SubElement(suite, "testcase", classname="explore", name="exploration")
        ET.SubElement(case, "error", message=found.error)
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    return bytes(ET.tostring(suite, encoding="utf-8", xml_declaration=True))
