"""A self-contained HTML report a team can attach to a ticket: inline CSS, no scripts, no
network. Every failure opens (``<details>``) to what the contract wanted, what was observed,
and each request and response."""

from __future__ import annotations

from html import escape
from pathlib import Path

from lotflow.verify.reports.text import MARKS, exchange_text, outcome_label
from lotflow.verify.results import Outcome, SubjectResult
from lotflow.verify.scorecard import Scorecard

__all__ = ["render_html", "write_html"]

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1b1f24;
padding:0 1rem}h1{font-size:1.5rem}
h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.5rem 0}
td,th{padding:.25rem .7rem;text-align:left;border-bottom:1px solid #eaeef2}
.passed{color:#1a7f37}.failed{color:#cf222e}.deviation{color:#9a6700}.not_run{color:#6e7781}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:13px}
details{margin:.3rem 0 .3rem 1.2rem}summary{cursor:pointer}.score{font-size:2rem;font-weight:600}
"""


def write_html(card: Scorecard, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(card), encoding="utf-8")


def render_html(card: Scorecard) -> str:
    counts = card.counts()
    head = (
        f"<h1>lotflow verify: {escape(card.target)}</h1>"
        f"<p class='score'>{card.score:.1f}%</p>"
        f"<p>{counts['passed']} passed · {counts['failed']} failed "
        f"({counts['new_failures']} new) · {counts['not_run']} not run · "
        f"{card.seconds:.1f} s. Not run is never counted as passed.</p>"
    )
    body = (
        head + _directions(card) + "".join(_check(card, c, rs) for c, rs in card.by_check().items())
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>lotflow verify {escape(card.target)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _directions(card: Scorecard) -> str:
    return _table("direction", card, card.by_direction()) + _table(
        "operation or event", card, card.by_operation()
    )


def _table(title: str, card: Scorecard, grouped: dict[str, list[SubjectResult]]) -> str:
    rows = "".join(
        f"<tr><td>{escape(d)}</td><td class='passed'>{c['passed']}</td>"
        f"<td class='failed'>{c['failed']}</td><td class='not_run'>{c['not_run']}</td></tr>"
        for d, c in ((d, card.counts(rs)) for d, rs in grouped.items())
    )
    return (
        f"<table><tr><th>{escape(title)}</th><th>passed</th><th>failed</th><th>not run</th></tr>"
        f"{rows}</table>"
    )


def _check(card: Scorecard, check_id: str, results: list[SubjectResult]) -> str:
    check = card.check(check_id)
    counts = card.counts(results)
    items = "".join(_subject(r) for r in results)
    return (
        f"<h2 id='{escape(check_id)}'>{escape(check_id)}</h2>"
        f"<p>{escape(check.description)} <em>({escape(str(check.direction))}; "
        f"{counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['not_run']} not run)</em></p>"
        f"{items}"
    )


def _subject(result: SubjectResult) -> str:
    label = outcome_label(result)
    css = "deviation" if label.startswith("deviation") else str(result.outcome)
    mark = MARKS[result.outcome]
    line = f"<span class='{css}'>{mark} {escape(result.subject)} — {escape(label)}</span>"
    if result.outcome is Outcome.PASSED:
        return f"<div>{line}</div>"
    if result.outcome is Outcome.NOT_RUN:
        remedy = escape(result.remedy)
        return f"<div>{line}: {escape(result.reason)}. <em>To run it: {remedy}.</em></div>"
    evidence = result.evidence
    assert evidence is not None
    exchanges = "".join(f"<pre>{escape(exchange_text(e))}</pre>" for e in evidence.exchanges)
    return (
        f"<details open><summary>{line}</summary>"
        f"<p><strong>The contract wants:</strong> {escape(evidence.expected)}</p>"
        f"<p><strong>Observed:</strong></p><pre>{escape(evidence.observed)}</pre>{exchanges}</details>"
    )
