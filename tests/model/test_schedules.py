"""The fault-schedule figures count what they say: nothing lost or applied twice under
duplicates and reorder, every event lost when the receiver is down beyond the retry budget."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lotflow.explore.schedules import main, run_schedule


@pytest.mark.parametrize("name", ["duplicates", "reorder", "sender crash after commit"])
def test_a_schedule_the_buyer_survives_delivers_everything_once(name: str, tmp_path: Path) -> None:
    figures = run_schedule(name, 4, tmp_path)
    assert (figures.committed, figures.delivered, figures.lost) == (4, 4, 0)
    assert figures.applied_twice == 0
    assert figures.producer_agrees == 4
    assert figures.redelivered == (0 if name == "sender crash after commit" else 4)


def test_an_outage_beyond_the_retry_budget_is_counted_as_lost(tmp_path: Path) -> None:
    figures = run_schedule("receiver down 3 days", 3, tmp_path)
    assert (figures.committed, figures.delivered, figures.lost) == (3, 0, 3)
    assert figures.producer_agrees == 0


def test_the_table_prints_one_row_per_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    level = logging.getLogger("lotflow.reference").level
    assert main(["1"]) == 0
    assert logging.getLogger("lotflow.reference").level == level  # quiet only while it runs
    out = capsys.readouterr().out
    assert "committed" in out
    assert out.count("/1") == 9
