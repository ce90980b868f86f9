"""Every endpoint and webhook of the integration map is in the contract, unknown ones included."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lotflow.speccheck import check_spec, spec_root

SEED = yaml.safe_load((spec_root() / "seed.yaml").read_text(encoding="utf-8"))
REPORT = check_spec()


def _same_path(template: str, seed_path: str) -> bool:
    """``/api/bids/{bidId}/counter`` matches the map's ``/api/bids/{id}/counter``."""

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}|\[[^\]]+\]", "{}", path)

    return shape(template) == shape(seed_path)


def _has_operation(portal: str, method: str, path: str) -> bool:
    return any(
        op.method.upper() == method and _same_path(op.path, path)
        for op in REPORT.portals[portal].operations.values()
    )


@pytest.mark.parametrize("row", SEED["webhooks"], ids=lambda r: r["event"])
def test_each_seed_webhook_is_sent_by_the_buyer_and_received_by_the_producer(
    row: dict[str, Any],
) -> None:
    buyer = REPORT.portals["buyer"].document
    assert row["event"] in buyer["webhooks"]
    assert buyer["webhooks"][row["event"]]["post"]["x-lotflow-delivery-path"] == row["path"]
    assert _has_operation("producer", row["method"], row["path"])


@pytest.mark.parametrize(
    "row", SEED["api_calls"] + SEED["buyer_actions"], ids=lambda r: f"{r['method']} {r['path']}"
)
def test_each_seed_buyer_endpoint_is_in_the_buyer_document(row: dict[str, Any]) -> None:
    assert _has_operation("buyer", row["method"], row["path"])


def test_the_rows_the_seed_marks_unknown_are_covered_too() -> None:
    unknown = [r for r in SEED["webhooks"] + SEED["api_calls"] if r["seed_status"] == "unknown"]
    assert {r["path"] for r in unknown} == {
        "/api/webhooks/contracts",
        "/api/bids/{id}/accept-counter",
    }


def _seed_map() -> Path | None:
    configured = os.environ.get("LOTFLOW_SEED_MAP")
    candidates = [Path(configured)] if configured else []
    candidates.append(
        Path(__file__).resolve().parents[3] / "shared" / "seeds" / "WORKFLOW_INTEGRATION_MAP.md"
    )
    return next((p for p in candidates if p.is_file()), None)


def test_seed_data_still_matches_the_integration_maps_tables() -> None:
    path = _seed_map()
    if path is None:
        pytest.skip(
            "the integration map is not beside this checkout (set LOTFLOW_SEED_MAP to check "
            "spec/seed.yaml against it)"
        )
    rows = re.findall(
        r"^\|\s*`([^`]+)`\s*\|\s*(GET|POST|PUT)\s*\|(.*)$", path.read_text(encoding="utf-8"), re.M
    )
    from_map = set()
    for endpoint, method, rest in rows:
        event = re.search(r"`([a-z]+\.[a-z_]+)`", rest)
        from_map.add((endpoint.replace("[id]", "{id}"), method, event.group(1) if event else None))
    ours = {(r["path"], r["method"], r.get("event")) for r in SEED["webhooks"] + SEED["api_calls"]}
    assert from_map == ours
