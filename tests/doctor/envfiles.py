"""The example env files of tests/doctor/data/ and edited copies of them, as a team edits them."""

from __future__ import annotations

import re
from pathlib import Path

from lotflow.doctor import Finding, Pair, check_pair, read_env_file

DATA = Path(__file__).parent / "data"
BUYER, PRODUCER = DATA / "buyer.env", DATA / "producer.env"
SEED_BUYER, SEED_PRODUCER = DATA / "seed-buyer.env.example", DATA / "seed-producer.env.example"
# The clean pair's shared values (as in the data files)
SIGNING = "whsec_YT4ctjXiZW2rngpir/tPTB8V5l1vSJqU"
API_KEY = "Yl1ZF5LBH9KKXq5DUsqfWlqOvufgEW3R"
OTHER_SECRET = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24="
OTHER_KEY = "8M04mRFEKxu41W9n3v5UJLssWA3E99QJ"


def edited(source: Path, target: Path, **changes: str | None) -> Path:
    """A copy of ``source`` at ``target`` with each named variable removed (None) or set to the
    given value (its old lines removed, the new one appended, quoted as teams do)."""
    text = source.read_text()
    for name, value in changes.items():
        text = re.sub(rf"(?m)^(export\s+)?{name}=.*\n?", "", text)
        if value is not None:
            quote = "'" if '"' in value else '"'
            text += f"{name}={quote}{value}{quote}\n"
    target.write_text(text)
    return target


def pair_of(
    tmp_path: Path, buyer: dict[str, str | None] | None = None, **producer: str | None
) -> Pair:
    """The clean pair with the buyer's and the producer's files edited."""
    return Pair(
        read_env_file(edited(BUYER, tmp_path / "buyer.env", **(buyer or {}))),
        read_env_file(edited(PRODUCER, tmp_path / "producer.env", **producer)),
    )


def kinds(findings: list[Finding]) -> list[str]:
    return sorted(f.kind for f in findings)


def findings_of(pair: Pair, kind: str) -> list[Finding]:
    return [f for f in check_pair(pair) if f.kind == kind]
