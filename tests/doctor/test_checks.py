"""Each static finding appears on the fault that causes it, names both sides' variables, never
shows a secret, and is absent from the clean pair."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lotflow.doctor import KINDS, Pair, Severity, check_pair, read_env_file
from lotflow.doctor.keys import fingerprint
from lotflow.doctor.pair import names, registry
from tests.doctor.envfiles import (
    API_KEY,
    BUYER,
    OTHER_KEY,
    OTHER_SECRET,
    PRODUCER,
    SEED_BUYER,
    SEED_PRODUCER,
    SIGNING,
    findings_of,
    kinds,
    pair_of,
)

BUYER_SIGNING = "PRODUCER_DASHBOARD_WEBHOOK_SECRET"


def test_the_clean_pair_has_no_finding() -> None:
    assert check_pair(Pair(read_env_file(BUYER), read_env_file(PRODUCER))) == []


def test_the_integration_maps_own_example_files_fail_on_what_the_map_warns_about() -> None:
    found = check_pair(Pair(read_env_file(SEED_BUYER), read_env_file(SEED_PRODUCER)))
    assert kinds(found) == sorted(
        ["lot-secret-mismatch", "weak-secret", "weak-secret"] + ["example-secret"] * 5
    )
    mismatch = next(f for f in found if f.kind == "lot-secret-mismatch")
    assert (mismatch.buyer, mismatch.producer) == (
        (BUYER_SIGNING,),
        ("MARKETPLACE_WEBHOOK_SECRET",),
    )
    assert "lot.published" in mismatch.problem  # the events, read from the spec
    assert fingerprint(b"dev-secret-key-123") in mismatch.problem


def test_the_names_come_from_the_settings_registry() -> None:
    n = names()
    buyer, producer = registry("buyer"), registry("producer")
    for name in (n.buyer_key, n.buyer_signing, n.buyer_webhook_url, n.buyer_auth):
        assert name in buyer
    for name in (n.producer_key, n.producer_bids, n.producer_lots, n.producer_buyer_url):
        assert name in producer
    assert n.buyer_key_aliases == ("PRODUCER_DASHBOARD_API_KEY",)


@pytest.mark.parametrize(
    ("producer_name", "kind"),
    [
        ("MARKETPLACE_WEBHOOK_SECRET", "lot-secret-mismatch"),
        ("BUYER_WEBHOOK_SECRET", "bid-secret-mismatch"),
    ],
)
def test_a_webhook_secret_that_differs_per_direction(
    tmp_path: Path, producer_name: str, kind: str
) -> None:
    pair = pair_of(tmp_path, **{producer_name: OTHER_SECRET})
    [finding] = findings_of(pair, kind)
    assert finding.buyer == (BUYER_SIGNING,)
    assert finding.producer == (producer_name,)
    assert fingerprint(OTHER_SECRET.encode()) not in finding.problem  # key bytes, not the text
    assert check_pair(pair) == [finding]


def test_without_a_marketplace_secret_lot_events_are_checked_against_the_bid_secret(
    tmp_path: Path,
) -> None:
    pair = pair_of(tmp_path, MARKETPLACE_WEBHOOK_SECRET=None, BUYER_WEBHOOK_SECRET=OTHER_SECRET)
    assert kinds(check_pair(pair)) == ["bid-secret-mismatch", "lot-secret-mismatch"]
    lot = findings_of(pair, "lot-secret-mismatch")[0]
    assert lot.producer == ("BUYER_WEBHOOK_SECRET",)
    assert "is unset" in lot.problem
    assert (
        findings_of(pair_of(tmp_path, MARKETPLACE_WEBHOOK_SECRET=None), "lot-secret-mismatch") == []
    )


def test_a_rotation_that_shares_one_secret_matches(tmp_path: Path) -> None:
    pair = pair_of(
        tmp_path,
        {BUYER_SIGNING: f"{OTHER_SECRET} {SIGNING}"},
        BUYER_WEBHOOK_SECRET=SIGNING,
        MARKETPLACE_WEBHOOK_SECRET=f"{SIGNING} {OTHER_SECRET}",
    )
    assert check_pair(pair) == []


def test_the_same_key_as_whsec_and_as_plain_text_matches(tmp_path: Path) -> None:
    plain, encoded = "dev-webhook-secret-0987", "whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTA5ODc="
    pair = pair_of(
        tmp_path,
        {BUYER_SIGNING: plain},
        BUYER_WEBHOOK_SECRET=encoded,
        MARKETPLACE_WEBHOOK_SECRET=plain,
    )
    assert check_pair(pair) == []


def test_in_the_legacy_dialect_the_secrets_text_must_match(tmp_path: Path) -> None:
    plain, encoded = "dev-webhook-secret-0987", "whsec_ZGV2LXdlYmhvb2stc2VjcmV0LTA5ODc="
    legacy = "legacy-bearer"
    pair = pair_of(
        tmp_path,
        {BUYER_SIGNING: plain, "LOTFLOW_WEBHOOK_AUTH": legacy},
        BUYER_WEBHOOK_SECRET=encoded,
        MARKETPLACE_WEBHOOK_SECRET=plain,
        LOTFLOW_WEBHOOK_AUTH=legacy,
    )
    assert kinds(check_pair(pair)) == ["bid-secret-mismatch", "legacy-bearer", "legacy-bearer"]


def test_every_finding_kind_is_documented() -> None:
    text = (Path(__file__).parents[2] / "docs" / "doctor.md").read_text()
    assert [kind for kind in KINDS if f"| `{kind}` |" not in text] == []


def test_an_api_key_that_differs(tmp_path: Path) -> None:
    [finding] = check_pair(pair_of(tmp_path, BUYER_API_KEY=OTHER_KEY))
    assert finding.kind == "api-key-mismatch"
    assert (finding.buyer, finding.producer) == (("PRODUCER_API_KEY",), ("BUYER_API_KEY",))
    assert fingerprint(OTHER_KEY.encode()) in finding.problem
    assert fingerprint(API_KEY.encode()) in finding.problem


def test_todays_alias_of_the_key_must_hold_the_same_value(tmp_path: Path) -> None:
    same = pair_of(tmp_path, {"PRODUCER_DASHBOARD_API_KEY": API_KEY})
    assert check_pair(same) == []
    differs = check_pair(pair_of(tmp_path, {"PRODUCER_DASHBOARD_API_KEY": OTHER_KEY}))
    assert kinds(differs) == ["api-key-alias-mismatch", "api-key-mismatch"]
    mismatch = next(f for f in differs if f.kind == "api-key-mismatch")
    assert mismatch.buyer == ("PRODUCER_DASHBOARD_API_KEY",)


@pytest.mark.parametrize(
    ("side", "name", "fails"),
    [
        ("buyer", "PRODUCER_API_KEY", "runs open"),
        ("buyer", BUYER_SIGNING, "runs open"),
        ("producer", "BUYER_API_KEY", "401"),
        ("producer", "BUYER_WEBHOOK_SECRET", "runs open"),
    ],
)
@pytest.mark.parametrize("blank", [None, ""])
def test_a_missing_or_empty_secret_says_how_the_endpoint_fails(
    tmp_path: Path, side: str, name: str, fails: str, blank: str | None
) -> None:
    buyer = {name: blank} if side == "buyer" else {}
    producer = {name: blank} if side == "producer" else {}
    [finding] = findings_of(pair_of(tmp_path, buyer, **producer), "missing-secret")
    assert getattr(finding, side) == (name,)
    assert "refuses to start" in finding.why
    assert fails in finding.why


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("whsec_", "0 bytes"),
        ("whsec_QQ==", "1 bytes"),
        ("short-secret", "12 bytes"),
        ("x" * 40, "distinct"),
    ],
)
def test_a_weak_webhook_secret_is_named_with_the_minimum(
    tmp_path: Path, value: str, expected: str
) -> None:
    found = findings_of(pair_of(tmp_path, {BUYER_SIGNING: value}), "weak-secret")
    assert [f.buyer for f in found] == [(BUYER_SIGNING,)]
    assert expected in found[0].problem
    assert "16 bytes" in found[0].problem


def test_a_weak_api_key_is_named_on_both_sides(tmp_path: Path) -> None:
    found = findings_of(
        pair_of(tmp_path, {"PRODUCER_API_KEY": "k"}, BUYER_API_KEY="k"), "weak-secret"
    )
    assert sorted((f.buyer, f.producer) for f in found) == [
        ((), ("BUYER_API_KEY",)),
        (("PRODUCER_API_KEY",), ()),
    ]


def test_a_published_example_value_is_flagged_even_when_both_sides_agree(tmp_path: Path) -> None:
    example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    pair = pair_of(
        tmp_path,
        {BUYER_SIGNING: example},
        BUYER_WEBHOOK_SECRET=example,
        MARKETPLACE_WEBHOOK_SECRET=None,
    )
    found = check_pair(pair)
    assert kinds(found) == ["example-secret", "example-secret"]
    assert all("Standard Webhooks" in f.problem for f in found)


def test_a_whsec_value_that_is_not_base64(tmp_path: Path) -> None:
    found = check_pair(pair_of(tmp_path, MARKETPLACE_WEBHOOK_SECRET="whsec_not*base64"))
    assert kinds(found) == ["whsec-not-base64"]
    assert found[0].producer == ("MARKETPLACE_WEBHOOK_SECRET",)
    assert "not*base64" not in found[0].problem


def test_one_secret_reused_as_api_key_and_webhook_secret(tmp_path: Path) -> None:
    pair = pair_of(tmp_path, {"PRODUCER_API_KEY": SIGNING}, BUYER_API_KEY=SIGNING)
    [finding] = findings_of(pair, "secret-reused")
    assert set(finding.buyer) == {BUYER_SIGNING, "PRODUCER_API_KEY"}
    assert set(finding.producer) == {
        "BUYER_WEBHOOK_SECRET",
        "MARKETPLACE_WEBHOOK_SECRET",
        "BUYER_API_KEY",
    }
    assert "the API key" in finding.problem
    assert "webhook signatures" in finding.problem


def test_an_operator_token_equal_to_the_api_key_is_reuse(tmp_path: Path) -> None:
    operators = json.dumps(
        [{"orgId": "6750a0ffe4b0f1a2b3c4d001", "name": "Nordic", "token": API_KEY}]
    )
    found = check_pair(pair_of(tmp_path, {"LOTFLOW_BUYER_OPERATORS": operators}))
    assert kinds(found) == ["secret-reused"]
    assert "an operator token" in found[0].problem
    assert "LOTFLOW_BUYER_OPERATORS" in found[0].buyer


@pytest.mark.parametrize(
    ("url", "severity", "says"),
    [
        ("http://localhost:3000", Severity.WARNING, "a base URL"),
        ("http://localhost:3000/", Severity.WARNING, "a base URL"),
        ("http://localhost:3000/api/webhooks/bids", Severity.ERROR, "not the lots receiver"),
        ("http://localhost:3000/api/webhook/lots", Severity.ERROR, "not the lots receiver"),
    ],
)
def test_the_buyers_webhook_url_must_name_the_lots_receiver(
    tmp_path: Path, url: str, severity: Severity, says: str
) -> None:
    [finding] = check_pair(pair_of(tmp_path, {"PRODUCER_DASHBOARD_WEBHOOK_URL": url}))
    assert (finding.kind, finding.level) == ("url-shape", severity)
    assert says in finding.problem
    assert "/api/webhooks/lots" in finding.fix


def test_the_producers_buyer_url_must_be_a_base(tmp_path: Path) -> None:
    url = "http://localhost:3004/api/lots/external"
    [finding] = check_pair(pair_of(tmp_path, NEXT_PUBLIC_BUYER_DASHBOARD_URL=url))
    assert finding.kind == "url-shape"
    assert finding.producer == ("NEXT_PUBLIC_BUYER_DASHBOARD_URL",)
    assert "http://localhost:3004." in finding.fix
    assert (
        check_pair(pair_of(tmp_path, NEXT_PUBLIC_BUYER_DASHBOARD_URL="https://x.example/buyer"))
        == []
    )


def test_a_webhook_url_pointing_at_the_buyer_itself(tmp_path: Path) -> None:
    url = "http://127.0.0.1:3004/api/webhooks/lots"
    [finding] = check_pair(pair_of(tmp_path, {"PRODUCER_DASHBOARD_WEBHOOK_URL": url}))
    assert finding.kind == "url-target"
    assert finding.level is Severity.ERROR
    assert "the buyer itself" in finding.problem


def test_a_buyer_url_on_the_wrong_port_per_the_buyers_port_variable(tmp_path: Path) -> None:
    pair = pair_of(tmp_path, {"PORT": "3104"})
    [finding] = check_pair(pair)
    assert finding.kind == "url-target"
    assert finding.level is Severity.ERROR
    assert "PORT in" in finding.problem
    assert "3104" in finding.problem
    assert finding.producer == ("NEXT_PUBLIC_BUYER_DASHBOARD_URL",)


def test_a_port_against_todays_default_is_a_warning_and_live_urls_decide(tmp_path: Path) -> None:
    pair = pair_of(
        tmp_path, {"PRODUCER_DASHBOARD_WEBHOOK_URL": "http://localhost:3999/api/webhooks/lots"}
    )
    [finding] = check_pair(pair)
    assert (finding.kind, finding.level) == ("url-target", Severity.WARNING)
    assert "today's default" in finding.problem
    live = Pair(pair.buyer, pair.producer, producer_url="http://localhost:3999")
    assert check_pair(live) == []


def test_a_real_host_is_not_judged_against_a_local_default(tmp_path: Path) -> None:
    url = "https://producer.example.com/api/webhooks/lots"
    assert check_pair(pair_of(tmp_path, {"PRODUCER_DASHBOARD_WEBHOOK_URL": url})) == []


def test_missing_urls(tmp_path: Path) -> None:
    found = check_pair(
        pair_of(
            tmp_path, {"PRODUCER_DASHBOARD_WEBHOOK_URL": None}, NEXT_PUBLIC_BUYER_DASHBOARD_URL=None
        )
    )
    assert kinds(found) == ["missing-url", "missing-url"]


def test_the_legacy_bearer_dialect_is_a_security_finding_and_a_mismatch_when_one_sided(
    tmp_path: Path,
) -> None:
    one_sided = check_pair(pair_of(tmp_path, {"LOTFLOW_WEBHOOK_AUTH": "legacy-bearer"}))
    assert kinds(one_sided) == ["auth-profile-mismatch", "legacy-bearer"]
    both = check_pair(
        pair_of(
            tmp_path,
            {"LOTFLOW_WEBHOOK_AUTH": "legacy-bearer"},
            LOTFLOW_WEBHOOK_AUTH="legacy-bearer",
        )
    )
    assert kinds(both) == ["legacy-bearer", "legacy-bearer"]
    assert all(f.level is Severity.WARNING and "security" in f.why.lower() for f in both)


def test_no_limit_on_failed_authentications_is_a_warning_naming_the_side(
    tmp_path: Path,
) -> None:
    """The demo's setting copied into a deployed portal's file: a warning on that side only;
    a limit of its own (or the default) says nothing."""
    found = check_pair(pair_of(tmp_path, {"LOTFLOW_AUTH_FAILURE_LIMIT": "0"}))
    assert kinds(found) == ["no-failure-limit"]
    assert found[0].buyer == ("LOTFLOW_AUTH_FAILURE_LIMIT",)
    assert found[0].producer == ()
    assert found[0].level is Severity.WARNING
    assert "30 a minute" in found[0].fix
    both = check_pair(pair_of(tmp_path, {}, LOTFLOW_AUTH_FAILURE_LIMIT="0"))
    assert [f.producer for f in both] == [("LOTFLOW_AUTH_FAILURE_LIMIT",)]
    assert check_pair(pair_of(tmp_path, {"LOTFLOW_AUTH_FAILURE_LIMIT": "100"})) == []


def test_duplicates_unparsed_lines_and_typos(tmp_path: Path) -> None:
    path = tmp_path / "buyer.env"
    path.write_text(
        BUYER.read_text()
        + "PRODUCER_API_KEY=Yl1ZF5LBH9KKXq5DUsqfWlqOvufgEW3R\n"
        + "PRODUCER_DASHBORD_WEBHOOK_URL=http://localhost:3000\n"
        + "this is not an assignment\n"
    )
    found = check_pair(Pair(read_env_file(path), read_env_file(PRODUCER)))
    assert kinds(found) == ["duplicate-variable", "unknown-variable", "unparsed-line"]
    duplicate = next(f for f in found if f.kind == "duplicate-variable")
    assert "the last (line" in duplicate.problem
    typo = next(f for f in found if f.kind == "unknown-variable")
    assert "did you mean PRODUCER_DASHBOARD_WEBHOOK_URL" in typo.problem


def test_a_value_the_portal_refuses_that_no_other_check_covers(tmp_path: Path) -> None:
    found = check_pair(pair_of(tmp_path, LOTFLOW_BUYER_RETRIES="2.5"))
    assert kinds(found) == ["invalid-value"]
    assert "LOTFLOW_BUYER_RETRIES='2.5' is not a whole number" in found[0].problem


def test_every_kind_has_a_title_and_a_severity() -> None:
    assert all(kind.title and kind.severity in Severity for kind in KINDS.values())
    assert len(KINDS) == len({k.id for k in KINDS.values()})


def test_no_finding_shows_a_secret_value(tmp_path: Path) -> None:
    secrets = {
        OTHER_KEY,
        API_KEY,
        SIGNING,
        OTHER_SECRET,
        "dev-webhook-secret-456",
        "dev-api-key-123",
    }
    pairs = [
        pair_of(tmp_path, {"PRODUCER_API_KEY": SIGNING}, BUYER_API_KEY=OTHER_KEY),
        Pair(read_env_file(SEED_BUYER), read_env_file(SEED_PRODUCER)),
    ]
    for pair in pairs:
        text = json.dumps([f.to_dict() for f in check_pair(pair)])
        assert not any(secret in text for secret in secrets)
