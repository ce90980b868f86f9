"""Wording every verify reporter shares: outcome marks and an exchange as text."""

from __future__ import annotations

from lotflow.verify.results import Exchange, Outcome, SubjectResult

__all__ = ["MARKS", "exchange_text", "outcome_label", "result_text"]

MARKS = {Outcome.PASSED: "✓", Outcome.FAILED: "✗", Outcome.NOT_RUN: "-"}


def outcome_label(result: SubjectResult) -> str:
    if result.outcome is Outcome.FAILED:
        kind = "deviation" if str(result.severity) == "deviation" else "failed"
        return f"{kind} (accepted)" if result.accepted else kind
    return "not run" if result.outcome is Outcome.NOT_RUN else "passed"


def exchange_text(exchange: Exchange) -> str:
    """The request and the response, as a person reads them."""
    lines = [f"> {exchange.method} {exchange.url}"]
    lines += [f"> {name}: {value}" for name, value in exchange.request_headers.items()]
    if exchange.request_body:
        lines.append(f"> {exchange.request_body}")
    if exchange.status is None:
        lines.append(f"< no response: {exchange.error}")
        return "\n".join(lines)
    lines.append(f"< {exchange.status}")
    content_type = exchange.response_headers.get("content-type")
    if content_type:
        lines.append(f"< content-type: {content_type}")
    if exchange.response_body:
        lines.append(f"< {exchange.response_body}")
    return "\n".join(lines)


def result_text(result: SubjectResult) -> str:
    """A failure's or a not-run's whole story, as plain text."""
    if result.outcome is Outcome.NOT_RUN:
        return f"not run: {result.reason}\nto run it: {result.remedy}"
    if result.evidence is None:
        return ""
    parts = [f"wanted: {result.evidence.expected}", f"observed: {result.evidence.observed}"]
    parts += [exchange_text(e) for e in result.evidence.exchanges]
    return "\n\n".join(parts)
