"""All static checks of a pair of configurations, in the order a reader fixes them."""

from __future__ import annotations

from lotflow.doctor.filechecks import file_findings, invalid_value_findings
from lotflow.doctor.findings import Finding
from lotflow.doctor.pair import Pair
from lotflow.doctor.secretchecks import secret_findings
from lotflow.doctor.urlchecks import url_findings

__all__ = ["check_pair"]


def check_pair(pair: Pair) -> list[Finding]:
    """Every static finding about ``pair`` (nothing is contacted)."""
    findings = [*secret_findings(pair), *url_findings(pair), *file_findings(pair)]
    findings += invalid_value_findings(pair, findings)
    return findings
