"""Write the pacts from the consumer tests: ``python -m tests.contracts.generate [FOLDER]``.

Run it (or ``nox -s pacts``) after changing an interaction, and commit ``contracts/pacts/``;
``test_pact_files`` fails while the committed pacts differ from what the consumer tests write.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from lotflow.pact.names import DEFAULT_PACTS_DIR
from tests.contracts.http_pact import SCENARIOS, run_scenario
from tests.contracts.message_pact import EVENTS, run_message


def write_pacts(folder: Path, work: Path) -> None:
    """Both pacts, written afresh into ``folder`` (``work`` holds the scenarios' databases)."""
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    runs = [partial(run_scenario, s) for s in SCENARIOS] + [partial(run_message, e) for e in EVENTS]
    for index, run in enumerate(runs):
        (work / str(index)).mkdir()
        run(work / str(index), folder)
    for written in folder.glob("*.json"):
        written.write_text(json.dumps(normalised(written), indent=2) + "\n", encoding="utf-8")


def normalised(path: Path) -> dict[str, Any]:
    """The pact without what legitimately varies between runs and machines (the Pact core's
    versions), its interactions in a stable order."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data.get("metadata", {}).pop("pactRust", None)
    data["interactions"].sort(key=lambda i: (i["description"], json.dumps(i["providerStates"])))
    return data


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PACTS_DIR
    work = Path(tempfile.mkdtemp(prefix="lotflow-pacts-"))
    try:
        write_pacts(folder, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for written in sorted(folder.glob("*.json")):
        count = len(json.loads(written.read_text())["interactions"])
        print(f"{written}: {count} interactions")


if __name__ == "__main__":
    main()
