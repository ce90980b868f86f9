"""Env files are read as teams write them: comments, quotes, export, blanks, duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotflow.doctor import parse_env_text, read_env_file
from lotflow.errors import ConfigError
from tests.doctor.envfiles import API_KEY, BUYER, SIGNING

TEXT = """\
# a comment
export PRODUCER_API_KEY="first value"   # trailing comment
PRODUCER_DASHBOARD_WEBHOOK_SECRET='single # not a comment'
EMPTY=
this line is not an assignment
PRODUCER_API_KEY=second
"""


def test_the_dotenv_dialect_is_read_and_the_last_duplicate_wins() -> None:
    env = parse_env_text(TEXT, "inline")
    assert env.get("PRODUCER_API_KEY") == "second"
    assert env.get("PRODUCER_DASHBOARD_WEBHOOK_SECRET") == "single # not a comment"
    assert env.get("EMPTY") == ""
    assert "EMPTY" in env.values
    assert env.duplicates() == {"PRODUCER_API_KEY": (2, 6)}
    assert env.unparsed == (5,)


def test_an_example_file_with_comments_quotes_and_export_is_read() -> None:
    env = read_env_file(BUYER)
    assert env.get("PRODUCER_DASHBOARD_WEBHOOK_SECRET") == SIGNING  # export + single quotes
    assert env.get("PRODUCER_API_KEY") == API_KEY  # unquoted with a trailing comment
    assert env.get("PRODUCER_DASHBOARD_WEBHOOK_URL").endswith("/api/webhooks/lots")
    assert env.duplicates() == {}
    assert env.unparsed == ()


@pytest.mark.parametrize("make", ["missing", "directory", "binary"])
def test_an_unreadable_file_is_a_config_error_naming_it(tmp_path: Path, make: str) -> None:
    path = tmp_path / "x.env"
    if make == "directory":
        path.mkdir()
    elif make == "binary":
        path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match=r"x\.env"):
        read_env_file(path)


def test_the_environment_fills_only_what_the_file_does_not_set() -> None:
    env = parse_env_text("PRODUCER_API_KEY=from-file\n", "f")
    merged = env.with_fallback(
        {"PRODUCER_API_KEY": "from-env", "PORT": "3004", "HOME": "/root"},
        {"PRODUCER_API_KEY", "PORT"},
    )
    assert merged.get("PRODUCER_API_KEY") == "from-file"
    assert merged.get("PORT") == "3004"
    assert "HOME" not in merged.values
    assert merged.source == "f + environment"
