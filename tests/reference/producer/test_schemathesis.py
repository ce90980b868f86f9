"""Schemathesis over the whole producer spec, in-process.

Receivers need a Standard Webhooks signature over the exact bytes sent, which a generator cannot
know in advance; a thin ASGI wrapper (test-only) signs each request that carries a placeholder
``webhook-signature``. When Schemathesis checks that authentication is enforced it removes that
header, the wrapper leaves the request alone, and the receiver must answer 401. The buyer the
producer calls is scripted (it stores every bid). As for the buyer, 422 is an accepted answer to
schema-valid data only where the contract documents business rules.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import settings
from lotflow.reference.producer.app import create_app
from lotflow.reference.producer.settings import ProducerSettings
from schemathesis.config import SchemathesisConfig

from lotflow.clock import SystemClock
from lotflow.ids import new_event_id
from lotflow.signing import sign, signature_headers
from tests.fixtures.producer import SECRET, TOKEN_A, ScriptedBuyer, producer_env

PLACEHOLDER = "v1,c2lnbi1tZQ=="
# The auth-failure limit is off here: Schemathesis sends invalid credentials to every operation
# many times (its ignored_auth check wants each refused with 401), which the limit would turn
# into 429s; the limit has tests of its own (tests/core/test_http_throttle.py).
PRODUCER = create_app(
    ProducerSettings.from_env(
        producer_env(
            Path(tempfile.mkdtemp(prefix="lotflow-st-producer-")), LOTFLOW_AUTH_FAILURE_LIMIT="0"
        )
    ),
    buyer_transport=httpx.MockTransport(ScriptedBuyer().handle),
)


async def signing_wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
    headers = dict(scope.get("headers") or [])
    if scope["type"] != "http" or headers.get(b"webhook-signature") != PLACEHOLDER.encode():
        await PRODUCER(scope, receive, send)
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    signed = _signed(headers, body)
    names = {name.encode() for name in signed}
    scope = {
        **scope,
        "headers": [(k, v) for k, v in scope["headers"] if k not in names]
        + [(k.encode(), v.encode()) for k, v in signed.items()],
    }
    delivered = False

    async def replay() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    await PRODUCER(scope, replay, send)


def _signed(headers: dict[bytes, bytes], body: bytes) -> dict[str, str]:
    """Sign with the case's own webhook-id and webhook-timestamp (valid or not), filling gaps."""
    fresh = signature_headers([SECRET], new_event_id(), body, SystemClock())
    msg_id = headers.get(b"webhook-id", fresh["webhook-id"].encode()).decode("latin-1")
    stamp = headers.get(b"webhook-timestamp", fresh["webhook-timestamp"].encode()).decode("latin-1")
    seconds = int(stamp) if stamp.isdigit() and len(stamp) < 18 else 0
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": sign([SECRET], msg_id, seconds, body),
    }


CONFIG = SchemathesisConfig.from_dict(
    {
        # Credentials by security scheme, so that Schemathesis knows them for what they are:
        # its negative cases (a missing or broken credential) stay negative. Receivers get the
        # signature placeholder the wrapper replaces; the operator API a token.
        "auth": {
            "openapi": {
                "standardWebhooks": {"api_key": PLACEHOLDER},
                "producerOperatorToken": {"bearer": TOKEN_A},
            }
        },
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "404", "409", "422"]}
        },
    }
)


schema = schemathesis.openapi.from_asgi("/openapi.json", signing_wrapper, config=CONFIG)


@schema.parametrize()
def test_every_operation_conforms_and_never_answers_5xx(case: schemathesis.Case) -> None:
    case.call_and_validate()


class ProducerWorkflow(schema.as_state_machine()):  # type: ignore[misc]
    pass


TestProducerThroughLinks = ProducerWorkflow.TestCase
TestProducerThroughLinks.settings = settings(stateful_step_count=6)
