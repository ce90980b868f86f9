"""The reference buyer served for verify: real uvicorn on port 0, with named faults, and the
credentials a team would give verify."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lotflow.reference.buyer import BuyerSettings, create_app

from lotflow.credentials import BuyerCredentials, Credentials
from lotflow.serving import ServerThread
from lotflow.verify.registry import select_checks
from lotflow.verify.runner import run_checks
from lotflow.verify.scorecard import Scorecard
from lotflow.verify.session import Budget, VerifySession
from tests.reference.buyer.portal import API_KEY, TOKENS, buyer_env

__all__ = ["CREDENTIALS", "junit_root", "serve_buyer", "verify"]

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
