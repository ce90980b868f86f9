"""Credentials for a buyer portal: flags before the environment before a .env file; operator
headers and cookies as the team gives them; bad values named without revealing them."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotflow.credentials import load_buyer_credentials, read_env_file
from lotflow.errors import ConfigError


def test_flags_win_over_the_environment_which_wins_over_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BUYER_API_KEY=from-file\nLOTFLOW_BUYER_OPERATOR_TOKEN=file-token\n")
    from_file = load_buyer_credentials(file=env_file)
    from_env = load_buyer_credentials(env={"PRODUCER_API_KEY": "from-env"}, file=env_file)
    from_flag = load_buyer_credentials(
        api_key="from-flag", env={"BUYER_API_KEY": "x"}, file=env_file
    )
    assert [c.api_key for c in (from_file, from_env, from_flag)] == [
        "from-file",
        "from-env",
        "from-flag",
    ]
    assert from_file.operator_headers() == {"Authorization": "Bearer file-token"}


def test_operator_headers_and_cookies_are_sent_as_given() -> None:
    found = load_buyer_credentials(
        api_key="k",
        operator_headers=["X-Org: nordic"],
        operator_cookies=["__session=eyJhbGciOi", "theme=dark"],
    )
    assert found.operator_headers() == {
        "X-Org": "nordic",
        "Cookie": "__session=eyJhbGciOi; theme=dark",
    }


def test_the_environment_can_hold_several_headers_and_cookies() -> None:
    env = {
        "BUYER_API_KEY": "k",
        "LOTFLOW_BUYER_OPERATOR_HEADERS": "Authorization: Bearer jwt; X-Org: nordic",
        "LOTFLOW_BUYER_OPERATOR_COOKIES": "__session=abc",
    }
    assert load_buyer_credentials(env=env).operator_headers() == {
        "Authorization": "Bearer jwt",
        "X-Org": "nordic",
        "Cookie": "__session=abc",
    }


def test_credentials_never_show_in_a_repr() -> None:
    found = load_buyer_credentials(api_key="secret-key-123", operator_token="secret-token-456")
    assert "secret" not in repr(found)


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        (
            {"api_key": "k", "operator_headers": ["Bearer abcdefghijklmnopqrstuvwxyz"]},
            "'Bearer abcde…' is not 'Name: value'",
        ),
        ({"api_key": "k", "operator_cookies": ["just-a-value"]}, "is not 'name=value'"),
    ],
)
def test_bad_credentials_are_named(kwargs: dict[str, object], said: str) -> None:
    with pytest.raises(ConfigError, match=None) as refused:
        load_buyer_credentials(**kwargs)  # type: ignore[arg-type]
    assert said in str(refused.value)
    assert "qrstuvwxyz" not in str(refused.value)


def test_a_missing_key_is_absent_until_a_tool_requires_it() -> None:
    """verify runs without the key (its key checks are then not run); pact verify cannot."""
    found = load_buyer_credentials(env={})
    assert found.api_key is None
    with pytest.raises(ConfigError, match="No producer API key: give --api-key"):
        found.require_key()


def test_a_malformed_env_file_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / ".env"
    bad.write_text("# ok\nBUYER_API_KEY=k\nthis line is not a setting\n")
    with pytest.raises(ConfigError, match=r"\.env:3 is not a NAME=value line"):
        read_env_file(bad)


def test_each_value_comes_from_the_first_place_that_sets_it(tmp_path: Path) -> None:
    file = tmp_path / "verify.env"
    file.write_text(
        "# the .env lotflow pact verify reads too\n"
        "BUYER_API_KEY=from-file\n"
        "LOTFLOW_BUYER_OPERATOR_TOKEN=file-token\n"
        "LOTFLOW_BUYER_OPERATOR_COOKIES=__session=file-jwt\n"
    )
    env = {"PRODUCER_API_KEY": "from-env", "LOTFLOW_BUYER_OPERATOR_COOKIES": "__session=env-jwt"}
    found = load_buyer_credentials(operator_headers=["X-Tenant: nordic"], file=file, env=env)
    assert found.api_key == "from-env"
    assert found.operator.as_headers() == {
        "X-Tenant": "nordic",
        "Authorization": "Bearer file-token",
        "Cookie": "__session=env-jwt",
    }
    assert load_buyer_credentials(api_key="flag", env=env).api_key == "flag"
    assert load_buyer_credentials(file=file).api_key == "from-file"
    assert load_buyer_credentials(env={}).api_key is None  # verify runs without: key checks not run
    assert "from-env" not in repr(found)
