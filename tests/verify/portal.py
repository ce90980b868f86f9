"""The reference buyer served for verify: real uvicorn on port 0, with named faults, and the
credentials a team would give verify."""

from __future__ import annotations

import asyncio
import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lotflow.reference.buyer import BuyerSettings, create_app

from lotflow.credentials import BuyerCredentials, Credentials
from lotflow.openapi import load_portal_spec
from lotflow.serving import ServerThread
from lotflow.verify.listener import WebhookListener
from lotflow.verify.registry import select_checks
from lotflow.verify.runner import run_checks
from lotflow.verify.scorecard import Scorecard
from lotflow.verify.session import Budget, VerifySession
from lotflow.verify.simulated import SimulatedBuyer
from tests.fixtures.producer import SECRET as SIGNING_SECRET
from tests.fixtures.producer import TOKEN_A as PRODUCER_TOKEN
from tests.reference.buyer.portal import API_KEY, TOKENS, buyer_env
from tests.reference.buyer.portal import SECRET as BUYER_SECRET

__all__ = [
    "BUYER_SECRET",
    "CREDENTIALS",
    "PRODUCER_TOKEN",
    "SIGNING_SECRET",
    "junit_root",
    "serve_buyer",
    "serve_buyer_sending",
    "serve_producer",
    "verify",
    "verify_producer",
    "verify_webhooks",
]

CREDENTIALS = BuyerCredentials(
    api_key=API_KEY, operator=Credentials({"Authorization": f"Bearer {TOKENS['a']}"})
)
SMALL = Budget(max_examples=8, seed=1, concurrency=4)


@contextmanager
def serve_buyer(
    tmp_path: Path, faults: Sequence[str] = (), auth_failure_limit: int = 0
) -> Iterator[str]:
    """The reference buyer (with ``faults``) on a free port; its base URL. Its limit on failed
    authentications is off by default, as docs/verify.md asks of a portal under verification
    (verify's auth probes fail on purpose)."""
    limit = {"LOTFLOW_AUTH_FAILURE_LIMIT": str(auth_failure_limit)}
    settings = BuyerSettings.from_env(buyer_env(tmp_path, **limit))
    app = create_app(settings, dispatcher_enabled=False, faults=faults)
    with ServerThread(app) as server:
        yield server.url


def verify(
    url: str,
    checks: Sequence[str] = (),
    credentials: BuyerCredentials = CREDENTIALS,
    **options: object,
) -> Scorecard:
    """Run the named buyer checks (all by default) against ``url``."""
    options.setdefault("budget", SMALL)
    session = VerifySession(url, credentials, **options)  # type: ignore[arg-type]
    return asyncio.run(run_checks(session, select_checks("buyer", checks)))


def junit_root(path: Path) -> ET.Element:
    """The root of a JUnit file a test just wrote."""
    return ET.parse(path).getroot()  # noqa: S314 - the file this test just wrote


@contextmanager
def serve_producer(tmp_path: Path, faults: Sequence[str] = (), **extra: str) -> Iterator[str]:
    """The reference producer (with ``faults``; ``extra`` settings) on a free port; its base URL
    (failed authentications unlimited, as for the buyer)."""
    from lotflow.reference.producer.app import create_app as producer_app
    from lotflow.reference.producer.settings import ProducerSettings

    from tests.fixtures.producer import producer_env

    env = producer_env(tmp_path, LOTFLOW_AUTH_FAILURE_LIMIT="0", **extra)
    with ServerThread(producer_app(ProducerSettings.from_env(env), faults=faults)) as server:
        yield server.url


PRODUCER_SECRETS = (SIGNING_SECRET,)
PRODUCER_CREDENTIALS = BuyerCredentials(
    operator=Credentials({"Authorization": f"Bearer {PRODUCER_TOKEN}"})
)


def verify_producer(
    url: str,
    checks: Sequence[str] = (),
    credentials: BuyerCredentials = PRODUCER_CREDENTIALS,
    **options: object,
) -> Scorecard:
    """Run the named producer checks (all by default) against ``url``."""
    options.setdefault("budget", dataclasses.replace(SMALL, answer_within=0.5))
    options.setdefault("webhook_secrets", PRODUCER_SECRETS)
    session = VerifySession(
        url,
        credentials,
        spec=load_portal_spec("producer"),
        **options,  # type: ignore[arg-type]
    )
    return asyncio.run(run_checks(session, select_checks("producer", checks)))


# The reference buyer's sender, compressed: retries within tens of milliseconds, a timeout of
# a few tenths (verify is told it), Retry-After honoured up to two seconds.
FAST_SENDER = {
    "LOTFLOW_WEBHOOK_BACKOFF_BASE": "0.05",
    "LOTFLOW_WEBHOOK_BACKOFF_CAP": "2",
    "LOTFLOW_WEBHOOK_TIMEOUT": "0.3",
}
WEBHOOK_BUDGET = dataclasses.replace(SMALL, delivery_deadline=3.0, settle=0.4, sender_timeout=0.3)


@contextmanager
def serve_buyer_sending(
    tmp_path: Path, faults: Sequence[str] = ()
) -> Iterator[tuple[str, WebhookListener]]:
    """The reference buyer with its dispatcher running, sending its webhooks (compressed
    retries) to a verify listener on a free port: the buyer's URL and the listener."""
    with WebhookListener().running() as listener:
        env = buyer_env(
            tmp_path,
            LOTFLOW_AUTH_FAILURE_LIMIT="0",
            PRODUCER_DASHBOARD_WEBHOOK_URL=listener.url,
            **FAST_SENDER,
        )
        app = create_app(BuyerSettings.from_env(env), faults=faults)
        with ServerThread(app) as server:
            yield server.url, listener


def verify_webhooks(url: str, listener: WebhookListener, checks: Sequence[str]) -> Scorecard:
    """Run the named buyer checks with the listener and the buyer's signing secret."""
    return verify(
        url, checks, budget=WEBHOOK_BUDGET, webhooks=listener, webhook_secrets=(BUYER_SECRET,)
    )


BUYER_KEY = "simulated-buyer-key-0123456789"
CLIENT_BUDGET = dataclasses.replace(SMALL, delivery_deadline=5.0)


@contextmanager
def serve_producer_with_buyer(
    tmp_path: Path, faults: Sequence[str] = (), *, secret: str | None = SIGNING_SECRET
) -> Iterator[tuple[str, SimulatedBuyer]]:
    """The reference producer (with ``faults``) using verify's simulated buyer as its buyer (its
    webhooks signed with ``secret``, compressed retries): the producer's URL and the buyer."""
    from lotflow.reference.producer.app import create_app as producer_app
    from lotflow.reference.producer.settings import ProducerSettings

    from tests.fixtures.producer import producer_env

    with SimulatedBuyer.running("", secret=secret, api_key=BUYER_KEY, backoff_base=0.05) as buyer:
        env = producer_env(
            tmp_path,
            LOTFLOW_AUTH_FAILURE_LIMIT="0",
            NEXT_PUBLIC_BUYER_DASHBOARD_URL=buyer.url,
            BUYER_API_KEY=BUYER_KEY,
            LOTFLOW_BUYER_TIMEOUT="2",
        )
        app = producer_app(ProducerSettings.from_env(env), faults=faults)
        with ServerThread(app) as server:
            buyer.simulator.producer_url = server.url
            yield server.url, buyer


def verify_client(
    url: str, buyer: SimulatedBuyer | None, checks: Sequence[str] = (), **options: object
) -> Scorecard:
    """Run the named producer-as-client checks against ``url`` with verify playing ``buyer``."""
    options.setdefault("budget", CLIENT_BUDGET)
    return verify_producer(url, checks or ["producer.client.*"], buyer=buyer, **options)
