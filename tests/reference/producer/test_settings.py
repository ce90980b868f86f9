"""The producer refuses to start open, and reads the portals' own variable names."""

from __future__ import annotations

from pathlib import Path

import pytest
from lotflow.reference.producer.settings import ProducerSettings

from lotflow.errors import ConfigError
from tests.fixtures.producer import producer_env


def test_missing_secrets_name_every_variable_and_refuse_to_start() -> None:
    with pytest.raises(ConfigError) as caught:
        ProducerSettings.from_env({"NEXT_PUBLIC_BUYER_DASHBOARD_URL": "http://buyer.test"})
    message = str(caught.value)
    for name in ("BUYER_API_KEY", "BUYER_WEBHOOK_SECRET", "LOTFLOW_PRODUCER_OPERATORS"):
        assert name in message
    assert "refuses to start" in message


def test_demo_mode_generates_what_is_missing_but_still_needs_the_buyer_url() -> None:
    settings = ProducerSettings.from_env(
        {"NEXT_PUBLIC_BUYER_DASHBOARD_URL": "http://buyer.test"}, demo=True
    )
    assert set(settings.generated) == {
        "BUYER_API_KEY",
        "BUYER_WEBHOOK_SECRET",
        "LOTFLOW_PRODUCER_OPERATORS",
    }
    assert settings.bid_secrets[0].startswith("whsec_")
    with pytest.raises(ConfigError, match="NEXT_PUBLIC_BUYER_DASHBOARD_URL"):
        ProducerSettings.from_env({}, demo=True)


def test_lot_events_fall_back_to_the_buyer_webhook_secret(tmp_path: Path) -> None:
    settings = ProducerSettings.from_env(producer_env(tmp_path))
    assert settings.lot_secrets == settings.bid_secrets
    separate = ProducerSettings.from_env(
        producer_env(tmp_path, MARKETPLACE_WEBHOOK_SECRET="marketplace-lot-secret")
    )
    assert separate.lot_secrets == ("marketplace-lot-secret",)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("LOTFLOW_PRODUCER_OPERATORS", "[{not json", "is not JSON"),
        (
            "LOTFLOW_PRODUCER_OPERATORS",
            '[{"orgId": "x"}]',
            "needs non-empty string orgId, name and token",
        ),
        ("NEXT_PUBLIC_BUYER_DASHBOARD_URL", "localhost:3004", "is not an http(s) URL"),
        ("LOTFLOW_BUYER_TIMEOUT", "soon", "is not a number"),
        ("LOTFLOW_WEBHOOK_AUTH", "magic", "is not one of: standard, legacy-bearer"),
    ],
)
def test_bad_values_name_the_variable_the_value_and_what_was_expected(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        ProducerSettings.from_env(producer_env(tmp_path, **{name: value}))
    assert name in str(caught.value)
    assert expected in str(caught.value)


def test_a_fractional_retry_count_is_refused_not_truncated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"LOTFLOW_BUYER_RETRIES='2.5' is not a whole number"):
        ProducerSettings.from_env(producer_env(tmp_path, LOTFLOW_BUYER_RETRIES="2.5"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BUYER_WEBHOOK_SECRET", "whsec_"),
        ("MARKETPLACE_WEBHOOK_SECRET", "whsec_QQ=="),
        ("BUYER_API_KEY", "k"),
    ],
)
def test_a_weak_key_or_secret_is_refused(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        ProducerSettings.from_env(producer_env(tmp_path, **{name: value}))


def test_in_demo_mode_the_missing_buyer_url_is_not_blamed_on_missing_demo_mode() -> None:
    with pytest.raises(ConfigError) as caught:
        ProducerSettings.from_env({}, demo=True)
    message = str(caught.value)
    assert "NEXT_PUBLIC_BUYER_DASHBOARD_URL" in message
    assert "--demo" not in message.replace("--demo cannot", "")
    assert "BUYER_API_KEY" not in message  # generated


def test_secrets_are_secret_types_and_never_in_the_repr(tmp_path: Path) -> None:
    settings = ProducerSettings.from_env(producer_env(tmp_path))
    text = repr(settings)
    for secret in (settings.buyer_api_key, *settings.bid_secrets, settings.operators[0].token):
        assert secret not in text


def test_the_registry_marks_the_buyer_url_required_but_not_generated() -> None:
    registry = {v.name: v for v in ProducerSettings.variables()}
    url = registry["NEXT_PUBLIC_BUYER_DASHBOARD_URL"]
    assert (url.required, url.secret, url.demo, url.form) == (True, False, False, "url")
    assert registry["MARKETPLACE_WEBHOOK_SECRET"].required is False
    assert registry["BUYER_WEBHOOK_SECRET"].secret is True
