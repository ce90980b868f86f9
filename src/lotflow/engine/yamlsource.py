"""Scenario files are read by the core's one YAML loader, :mod:`lotflow.yamlsource` (text keys,
duplicate keys refused, timestamps kept as text, the line of every value remembered)."""

from __future__ import annotations

from lotflow.yamlsource import Path_, Positions, parse_yaml

__all__ = ["Path_", "Positions", "parse_yaml"]
