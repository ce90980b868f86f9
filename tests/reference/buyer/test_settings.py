"""Settings fail closed, name every bad value, and in demo mode generate what is missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lotflow.reference.buyer import BuyerSettings
from lotflow.reference.buyer.settings import DEFAULT_DATABASE_URL

from lotflow.errors import ConfigError
from lotflow.ids import is_object_id
from lotflow.signing import secret_key
from tests.reference.buyer.portal import API_KEY, ORG_A, SECRET, TOKENS, buyer_env

REQUIRED = ("PRODUCER_API_KEY", "PRODUCER_DASHBOARD_WEBHOOK_SECRET", "LOTFLOW_BUYER_OPERATORS")


def test_a_complete_environment_gives_every_setting(tmp_path: Path) -> None:
    settings = BuyerSettings.from_env(buyer_env(tmp_path))
    assert settings.api_key == API_KEY
    assert settings.webhook_secrets == (SECRET,)
    assert (settings.operators[0].org_id, settings.operators[0].token) == (ORG_A, TOKENS["a"])
    assert settings.webhook_base_url == "http://producer.test"
    assert (settings.webhook_auth, settings.max_body_bytes, settings.webhook_max_attempts) == (
        "standard",
        1_000_000,
        24,
    )
    timing = (settings.webhook_backoff_base, settings.webhook_backoff_cap, settings.webhook_timeout)
    assert timing == (1.0, 21600.0, 10.0)
    assert settings.generated == {}


def test_response_validation_is_on_unless_switched_off(tmp_path: Path) -> None:
    assert BuyerSettings.from_env(buyer_env(tmp_path)).validate_responses is True
    env = buyer_env(tmp_path, LOTFLOW_VALIDATE_RESPONSES="false")
    assert BuyerSettings.from_env(env).validate_responses is False


def test_the_database_defaults_to_a_local_sqlite_file(tmp_path: Path) -> None:
    env = buyer_env(tmp_path)
    del env["LOTFLOW_DATABASE_URL"]
    url = BuyerSettings.from_env(env).database_url
    assert url == DEFAULT_DATABASE_URL == "sqlite:///./lotflow-buyer.sqlite3"


def test_without_key_secret_and_operators_the_portal_refuses_to_start_naming_each() -> None:
    with pytest.raises(ConfigError) as refused:
        BuyerSettings.from_env({})
    message = str(refused.value)
    for name in REQUIRED:
        assert name in message
    for meaning in ("X-API-Key", "whsec_", "orgId", "--demo"):
        assert meaning in message


@pytest.mark.parametrize("missing", REQUIRED)
def test_each_missing_secret_alone_is_refused(tmp_path: Path, missing: str) -> None:
    env = buyer_env(tmp_path)
    env[missing] = "  "
    with pytest.raises(ConfigError, match=missing):
        BuyerSettings.from_env(env)


def test_demo_mode_generates_the_missing_secrets_and_records_them() -> None:
    settings = BuyerSettings.from_env({}, demo=True)
    assert set(settings.generated) == set(REQUIRED)
    assert settings.generated["PRODUCER_API_KEY"] == settings.api_key
    assert len(settings.api_key) >= 24
    assert secret_key(settings.webhook_secrets[0])  # a usable secret
    operators = json.loads(settings.generated["LOTFLOW_BUYER_OPERATORS"])
    assert is_object_id(operators[0]["orgId"])
    assert operators[0]["token"] == settings.operators[0].token
    assert BuyerSettings.from_env({}, demo=True).api_key != settings.api_key


def test_demo_mode_keeps_what_is_given(tmp_path: Path) -> None:
    env = buyer_env(tmp_path)
    del env["PRODUCER_API_KEY"]
    settings = BuyerSettings.from_env(env, demo=True)
    assert set(settings.generated) == {"PRODUCER_API_KEY"}
    assert settings.webhook_secrets == (SECRET,)


def test_several_secrets_separated_by_spaces_sign_during_a_rotation(tmp_path: Path) -> None:
    env = buyer_env(tmp_path, PRODUCER_DASHBOARD_WEBHOOK_SECRET=f"{SECRET}  dev-webhook-secret-456")
    assert BuyerSettings.from_env(env).webhook_secrets == (SECRET, "dev-webhook-secret-456")


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://localhost:3000/api/webhooks/lots", "http://localhost:3000"),
        ("https://producer.example/base/api/webhooks/bids", "https://producer.example/base"),
        ("http://localhost:3000/", "http://localhost:3000"),
    ],
)
def test_the_webhook_base_is_the_url_before_api_webhooks(
    tmp_path: Path, url: str, base: str
) -> None:
    settings = BuyerSettings.from_env(buyer_env(tmp_path, PRODUCER_DASHBOARD_WEBHOOK_URL=url))
    assert settings.webhook_base_url == base


def test_without_a_webhook_url_there_is_no_base(tmp_path: Path) -> None:
    env = buyer_env(tmp_path)
    del env["PRODUCER_DASHBOARD_WEBHOOK_URL"]
    assert BuyerSettings.from_env(env).webhook_base_url is None


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("LOTFLOW_BUYER_OPERATORS", "[{orgId: 1}", "not JSON"),
        ("LOTFLOW_BUYER_OPERATORS", "[]", "non-empty JSON list"),
        (
            "LOTFLOW_BUYER_OPERATORS",
            '[{"orgId": "42", "name": "x", "token": "t"}]',
            "24 lowercase hex",
        ),
        ("LOTFLOW_BUYER_OPERATORS", f'[{{"orgId": "{ORG_A}", "name": "x"}}]', "token"),
        (
            "LOTFLOW_BUYER_OPERATORS",
            f'[{{"orgId": "{ORG_A}", "name": "x", "token": "t", "tokne": 1}}]',
            "tokne",
        ),
        ("LOTFLOW_MAX_BODY_BYTES", "1MB", "whole number"),
        ("LOTFLOW_WEBHOOK_MAX_ATTEMPTS", "0", "out of range"),
        ("LOTFLOW_WEBHOOK_BACKOFF_BASE", "fast", "number"),
        ("LOTFLOW_WEBHOOK_BACKOFF_CAP", "nan", "out of range"),
        ("LOTFLOW_WEBHOOK_TIMEOUT", "-1", "out of range"),
        ("PRODUCER_DASHBOARD_WEBHOOK_URL", "localhost:3000/api/webhooks/lots", "http(s) URL"),
        ("LOTFLOW_WEBHOOK_AUTH", "basic", "standard, legacy-bearer"),
        ("LOTFLOW_DATABASE_URL", "not a url", "SQLAlchemy URL"),
        ("PRODUCER_DASHBOARD_WEBHOOK_SECRET", "whsec_!!!", "base64"),
        ("LOTFLOW_VALIDATE_RESPONSES", "maybe", "switch"),
        ("LOTFLOW_ANSWER_CACHE", "sometimes", "switch"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable_and_the_value(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        BuyerSettings.from_env(buyer_env(tmp_path, **{name: value}))
    assert name in str(refused.value)
    assert expected in str(refused.value)


def test_an_operator_token_equal_to_the_producer_key_is_refused(tmp_path: Path) -> None:
    operators = json.dumps([{"orgId": ORG_A, "name": "Nordic Air", "token": API_KEY}])
    with pytest.raises(ConfigError, match="PRODUCER_API_KEY"):
        BuyerSettings.from_env(buyer_env(tmp_path, LOTFLOW_BUYER_OPERATORS=operators))


def test_secrets_never_appear_in_the_settings_repr(tmp_path: Path) -> None:
    text = repr(BuyerSettings.from_env(buyer_env(tmp_path)))
    for secret in (API_KEY, SECRET, TOKENS["a"]):
        assert secret not in text


WEAK = [
    ("PRODUCER_DASHBOARD_WEBHOOK_SECRET", "whsec_", "16 bytes"),  # an empty HMAC key
    ("PRODUCER_DASHBOARD_WEBHOOK_SECRET", "whsec_QQ==", "16 bytes"),  # a 1-byte key
    ("PRODUCER_DASHBOARD_WEBHOOK_SECRET", "short-secret", "16 bytes"),
    ("PRODUCER_DASHBOARD_WEBHOOK_SECRET", "x" * 40, "distinct"),
    ("PRODUCER_API_KEY", "k", "16 characters"),
    ("PRODUCER_API_KEY", "a" * 32, "distinct"),
    (
        "LOTFLOW_BUYER_OPERATORS",
        json.dumps([{"orgId": ORG_A, "name": "Nordic Air", "token": "t"}]),
        "16 characters",
    ),
]


@pytest.mark.parametrize(("name", "value", "minimum"), WEAK)
def test_a_weak_key_secret_or_token_is_refused_naming_the_variable_and_the_minimum(
    tmp_path: Path, name: str, value: str, minimum: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        BuyerSettings.from_env(buyer_env(tmp_path, **{name: value}))
    message = str(refused.value)
    assert name in message
    assert minimum in message
    if name != "LOTFLOW_BUYER_OPERATORS":
        assert value not in message or len(value) < 8  # a secret's value is never shown


def test_todays_plain_string_secrets_of_22_characters_still_start(tmp_path: Path) -> None:
    env = buyer_env(tmp_path, PRODUCER_DASHBOARD_WEBHOOK_SECRET="dev-webhook-secret-456")
    assert BuyerSettings.from_env(env).webhook_secrets == ("dev-webhook-secret-456",)


def test_every_bad_value_is_named_at_once(tmp_path: Path) -> None:
    env = buyer_env(
        tmp_path,
        LOTFLOW_WEBHOOK_MAX_ATTEMPTS="2.5",
        LOTFLOW_WEBHOOK_TIMEOUT="soon",
        PRODUCER_DASHBOARD_WEBHOOK_URL="localhost:3000",
    )
    del env["PRODUCER_API_KEY"]
    with pytest.raises(ConfigError) as refused:
        BuyerSettings.from_env(env)
    message = str(refused.value)
    for name in (
        "LOTFLOW_WEBHOOK_MAX_ATTEMPTS='2.5'",
        "LOTFLOW_WEBHOOK_TIMEOUT='soon'",
        "PRODUCER_DASHBOARD_WEBHOOK_URL='localhost:3000'",
        "PRODUCER_API_KEY",
    ):
        assert name in message


def test_the_process_environment_is_never_read_implicitly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in buyer_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="PRODUCER_API_KEY"):
        BuyerSettings.from_env({})


def test_the_registry_names_every_variable_with_its_meaning_and_secrecy() -> None:
    registry = {v.name: v for v in BuyerSettings.variables()}
    assert set(REQUIRED) <= set(registry)
    assert {n for n, v in registry.items() if v.secret} == set(REQUIRED)
    assert {n for n, v in registry.items() if v.required} == set(REQUIRED)
    assert registry["LOTFLOW_WEBHOOK_MAX_ATTEMPTS"].default == "24"
    assert registry["PRODUCER_API_KEY"].aliases == ("PRODUCER_DASHBOARD_API_KEY",)
    assert all(v.meaning for v in registry.values())
    assert "PRODUCER_DASHBOARD_WEBHOOK_URL" in registry
