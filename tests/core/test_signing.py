"""Standard Webhooks signing and verification with an injected clock, and the legacy profile."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from lotflow.clock import FakeClock, SystemClock
from lotflow.errors import (
    ConfigError,
    InvalidSignatureError,
    MissingSignatureError,
    SignatureError,
    StaleTimestampError,
)
from lotflow.signing import (
    WebhookVerifier,
    legacy_bearer_headers,
    new_webhook_secret,
    secret_key,
    sign,
    signature_headers,
    split_secrets,
    verify_legacy_bearer,
)

# The Standard Webhooks known-answer vector.
KAT_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KAT_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
KAT_TIMESTAMP = 1614265330
KAT_BODY = b'{"test": 2432232314}'
KAT_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "dev-webhook-secret-456"
NEW_SECRET = "whsec_" + base64.b64encode(b"the rotated-in secret key").decode()
BODY = b'{"event":"bid.accepted","bid":{"_id":"6750a1c2e4b0f1a2b3c4d5e6"}}'
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def test_signature_matches_the_standard_webhooks_known_answer() -> None:
    assert sign([KAT_SECRET], KAT_ID, KAT_TIMESTAMP, KAT_BODY) == KAT_SIGNATURE


def test_a_known_answer_signature_verifies_at_its_own_time() -> None:
    clock = FakeClock(datetime.fromtimestamp(KAT_TIMESTAMP, UTC))
    headers = {
        "webhook-id": KAT_ID,
        "webhook-timestamp": str(KAT_TIMESTAMP),
        "webhook-signature": KAT_SIGNATURE,
    }
    assert WebhookVerifier([KAT_SECRET], clock).verify(headers, KAT_BODY) == KAT_ID


def test_a_whsec_secret_is_base64_and_any_other_string_is_its_utf8_bytes() -> None:
    assert secret_key("whsec_" + base64.b64encode(b"\x00key").decode()) == b"\x00key"
    assert secret_key(SECRET) == SECRET.encode()
    assert secret_key("sécret") == "sécret".encode()


@pytest.mark.parametrize("secret", ["", "whsec_not base64!"])
def test_an_empty_or_malformed_secret_is_a_config_error(secret: str) -> None:
    with pytest.raises(ConfigError):
        secret_key(secret)


def test_a_new_webhook_secret_is_a_whsec_secret_of_24_random_bytes() -> None:
    made = new_webhook_secret()
    assert made.startswith("whsec_")
    assert len(secret_key(made)) == 24
    assert made != new_webhook_secret()


def test_split_secrets_reads_a_rotation_list_separated_by_commas_or_spaces() -> None:
    assert split_secrets("old, new  newest") == ["old", "new", "newest"]
    with pytest.raises(ConfigError):
        split_secrets(" , ")


def test_one_signature_per_secret_for_rotation() -> None:
    header = sign([SECRET, NEW_SECRET], "msg_1", 1, BODY)
    assert header.split(" ") == [
        sign([SECRET], "msg_1", 1, BODY),
        sign([NEW_SECRET], "msg_1", 1, BODY),
    ]


def test_signature_headers_are_stamped_by_the_injected_clock() -> None:
    headers = signature_headers([SECRET], "msg_abc", BODY, FakeClock(NOW))
    assert headers == {
        "webhook-id": "msg_abc",
        "webhook-timestamp": str(int(NOW.timestamp())),
        "webhook-signature": sign([SECRET], "msg_abc", int(NOW.timestamp()), BODY),
    }


# ---------------------------------------------------------------- interop with standardwebhooks


def test_a_library_signed_webhook_verifies_here() -> None:
    signature = Webhook(KAT_SECRET).sign("msg_lib", NOW, BODY.decode())
    headers = {
        "webhook-id": "msg_lib",
        "webhook-timestamp": str(int(NOW.timestamp())),
        "webhook-signature": signature,
    }
    assert WebhookVerifier([KAT_SECRET], FakeClock(NOW)).verify(headers, BODY) == "msg_lib"


def test_a_webhook_signed_here_verifies_with_the_library() -> None:
    clock = FakeClock(SystemClock().now())  # the library checks against the real clock
    headers = signature_headers([KAT_SECRET], "msg_ours", BODY, clock)
    assert Webhook(KAT_SECRET).verify(BODY, headers) == {
        "event": "bid.accepted",
        "bid": {"_id": "6750a1c2e4b0f1a2b3c4d5e6"},
    }


# ---------------------------------------------------------------- the six cases

Headers = dict[str, str]


def _signed(secrets: list[str], at: datetime = NOW, body: bytes = BODY) -> Headers:
    return signature_headers(secrets, "msg_case", body, FakeClock(at))


def _without(name: str) -> Callable[[], Headers]:
    return lambda: {k: v for k, v in _signed([SECRET]).items() if k != name}


VALID: list[tuple[str, Callable[[], Headers], bytes]] = [
    ("valid", lambda: _signed([SECRET]), BODY),
    ("signed with the rotated-in second secret", lambda: _signed([NEW_SECRET]), BODY),
    ("signed with both secrets during rotation", lambda: _signed([NEW_SECRET, SECRET]), BODY),
    ("4m59s old", lambda: _signed([SECRET], NOW - timedelta(minutes=4, seconds=59)), BODY),
    ("4m59s ahead", lambda: _signed([SECRET], NOW + timedelta(minutes=4, seconds=59)), BODY),
]

INVALID: list[tuple[str, Callable[[], Headers], bytes, type[SignatureError]]] = [
    (
        "tampered body",
        lambda: _signed([SECRET]),
        BODY.replace(b"accepted", b"rejected"),
        InvalidSignatureError,
    ),
    ("wrong secret", lambda: _signed(["someone-else's-secret"]), BODY, InvalidSignatureError),
    (
        "6 minutes old",
        lambda: _signed([SECRET], NOW - timedelta(minutes=6)),
        BODY,
        StaleTimestampError,
    ),
    (
        "6 minutes ahead",
        lambda: _signed([SECRET], NOW + timedelta(minutes=6)),
        BODY,
        StaleTimestampError,
    ),
    ("no webhook-id", _without("webhook-id"), BODY, MissingSignatureError),
    ("no webhook-timestamp", _without("webhook-timestamp"), BODY, MissingSignatureError),
    ("no webhook-signature", _without("webhook-signature"), BODY, MissingSignatureError),
    ("no headers at all", dict, BODY, MissingSignatureError),
]


@pytest.fixture
def verifier() -> WebhookVerifier:
    """A receiver that has rotated in NEW_SECRET and still accepts SECRET."""
    return WebhookVerifier([SECRET, NEW_SECRET], FakeClock(NOW))


@pytest.mark.parametrize(("case", "headers", "body"), VALID, ids=[c[0] for c in VALID])
def test_verification_accepts(
    verifier: WebhookVerifier, case: str, headers: Callable[[], Headers], body: bytes
) -> None:
    assert verifier.verify(headers(), body) == "msg_case", case


@pytest.mark.parametrize(("case", "headers", "body", "error"), INVALID, ids=[c[0] for c in INVALID])
def test_verification_refuses(
    verifier: WebhookVerifier,
    case: str,
    headers: Callable[[], Headers],
    body: bytes,
    error: type[SignatureError],
) -> None:
    with pytest.raises(error):
        verifier.verify(headers(), body)


def test_the_stale_message_says_which_side_of_the_window() -> None:
    verifier = WebhookVerifier([SECRET], FakeClock(NOW))
    with pytest.raises(StaleTimestampError, match="600s old"):
        verifier.verify(_signed([SECRET], NOW - timedelta(minutes=10)), BODY)
    with pytest.raises(StaleTimestampError, match="600s in the future"):
        verifier.verify(_signed([SECRET], NOW + timedelta(minutes=10)), BODY)


def test_the_window_is_configurable() -> None:
    strict = WebhookVerifier([SECRET], FakeClock(NOW), tolerance=timedelta(seconds=30))
    with pytest.raises(StaleTimestampError):
        strict.verify(_signed([SECRET], NOW - timedelta(seconds=31)), BODY)


def test_header_names_are_case_insensitive() -> None:
    headers = {k.title(): v for k, v in _signed([SECRET]).items()}
    assert set(headers) == {"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}
    assert WebhookVerifier([SECRET], FakeClock(NOW)).verify(headers, BODY) == "msg_case"


def test_signatures_of_unknown_versions_are_ignored() -> None:
    headers = _signed([SECRET])
    good = headers["webhook-signature"].removeprefix("v1,")
    verifier = WebhookVerifier([SECRET], FakeClock(NOW))
    assert verifier.verify({**headers, "webhook-signature": f"v2,garbage v1,{good}"}, BODY)
    with pytest.raises(InvalidSignatureError):
        verifier.verify({**headers, "webhook-signature": f"v2,{good}"}, BODY)


def test_a_timestamp_that_is_not_a_number_is_invalid() -> None:
    headers = {**_signed([SECRET]), "webhook-timestamp": "yesterday"}
    with pytest.raises(InvalidSignatureError, match="not Unix seconds"):
        WebhookVerifier([SECRET], FakeClock(NOW)).verify(headers, BODY)


def test_a_verifier_without_secrets_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        WebhookVerifier([], FakeClock(NOW))


@settings(deadline=None)
@given(
    body=st.binary(max_size=2048),
    msg_id=st.text(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", min_size=1, max_size=40
    ),
    secret=st.text(min_size=1, max_size=40).filter(lambda s: not s.startswith("whsec_")),
    data=st.data(),
)
def test_sign_then_verify_round_trips_and_any_flipped_body_byte_fails(
    body: bytes, msg_id: str, secret: str, data: st.DataObject
) -> None:
    verifier = WebhookVerifier([secret], FakeClock(NOW))
    headers = signature_headers([secret], msg_id, body, FakeClock(NOW))
    assert verifier.verify(headers, body) == msg_id
    if body:
        index = data.draw(st.integers(0, len(body) - 1), label="index")
        bit = data.draw(st.integers(0, 7), label="bit")
        flipped = bytearray(body)
        flipped[index] ^= 1 << bit
        with pytest.raises(InvalidSignatureError):
            verifier.verify(headers, bytes(flipped))


# ---------------------------------------------------------------- legacy bearer profile


def test_legacy_bearer_headers_carry_the_secret_as_a_bearer_token() -> None:
    assert legacy_bearer_headers(SECRET) == {"Authorization": f"Bearer {SECRET}"}


def test_legacy_bearer_accepts_any_configured_secret_whatever_the_header_case() -> None:
    verify_legacy_bearer(legacy_bearer_headers(SECRET), [NEW_SECRET, SECRET])
    verify_legacy_bearer({"authorization": f"bearer {SECRET}"}, [SECRET])


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, MissingSignatureError),
        ({"Authorization": f"Basic {SECRET}"}, MissingSignatureError),
        ({"Authorization": "Bearer "}, MissingSignatureError),
        ({"Authorization": "Bearer not-the-secret"}, InvalidSignatureError),
    ],
)
def test_legacy_bearer_refuses_absent_or_wrong_tokens(
    headers: dict[str, str], error: type[SignatureError]
) -> None:
    with pytest.raises(error):
        verify_legacy_bearer(headers, [SECRET])
