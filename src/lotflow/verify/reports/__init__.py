"""Reporters of a verify run: terminal (rich, with progress), JUnit XML, JSON and a
self-contained HTML page. Each reads the run's events or its scorecard; none knows HTTP."""

from __future__ import annotations

from lotflow.verify.reports.html import write_html
from lotflow.verify.reports.jsonreport import write_json
from lotflow.verify.reports.junit import write_junit
from lotflow.verify.reports.terminal import TerminalReporter

__all__ = ["TerminalReporter", "write_html", "write_json", "write_junit"]
