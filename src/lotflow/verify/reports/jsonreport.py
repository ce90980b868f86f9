"""The scorecard as JSON (machine-readable; the schema is ``Scorecard.to_dict``)."""

from __future__ import annotations

import json
from pathlib import Path

from lotflow.verify.scorecard import Scorecard

__all__ = ["write_json"]


def write_json(card: Scorecard, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card.to_dict(), indent=2, ensure_ascii=False) + "\n", "utf-8")
