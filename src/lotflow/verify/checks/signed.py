"""Signed webhook deliveries that verify sends to a producer's receivers: bodies from the spec's
examples (with fresh ids), Standard Webhooks headers from the secrets the team gave, and the
deliberate mistakes of the signature vector (a tampered body, a wrong secret, a timestamp
outside the window, no headers)."""

from __future__ import annotations

import copy
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lotflow.openapi import resolve
from lotflow.signing import new_webhook_secret, sign
from lotflow.verify.registry import Requirement
from lotflow.verify.session import Answer, Party, VerifySession

__all__ = [
    "NEEDS_PRODUCER_OPERATOR",
    "NEEDS_SECRET",
    "RECEIVERS",
    "Delivery",
    "deliver",
    "example_event",
    "fresh_id",
    "read_lot",
]

RECEIVERS = ("receiveLotWebhook", "receiveBidWebhook", "receiveContractWebhook")
LOT_RECEIVER = RECEIVERS[0]

NEEDS_SECRET = Requirement(
    "webhook secret",
    lambda s: bool(s.webhook_secrets),
    "no webhook secret: verify cannot sign the webhooks it sends to the receivers",
    "give --webhook-secret (the secret the producer verifies webhooks with; "
    "BUYER_WEBHOOK_SECRET in the environment or --credentials)",
)
NEEDS_PRODUCER_OPERATOR = Requirement(
    "producer operator credentials",
    lambda s: s.has_operator,
    "without the producer's operator credentials verify cannot read the producer's state, so it "
    "cannot tell whether a delivery changed it",
    "give --operator-token (a producer operator token, LOTFLOW_PRODUCER_OPERATOR_TOKEN)",
)


def fresh_id() -> str:
    """A fresh 24-hex-digit id, like the buyer's."""
    return secrets.token_hex(12)


def event_id() -> str:
    return f"msg_lotflow{secrets.token_hex(10)}"


def example_event(session: VerifySession, receiver: str, **changes: Any) -> dict[str, Any]:
    """The first example of ``receiver``'s body, with a fresh eventId and, for a lot event, a
    fresh lot id (so no delivery touches what another one stored); ``changes`` go into the
    entity (``lot`` for the lot receiver, else ``bid``)."""
    schema = resolve(session.spec, session.operations[receiver].request_schema or {})
    body: dict[str, Any] = copy.deepcopy(schema["examples"][0])
    body["eventId"] = event_id()
    entity = "lot" if receiver == LOT_RECEIVER else "bid"
    if receiver == LOT_RECEIVER:
        body["lot"]["_id"] = fresh_id()
    body[entity].update(changes)
    return body


@dataclass(frozen=True)
class Delivery:
    """How to spoil one delivery: sign with ``secrets`` (default: the team's), move the
    timestamp by ``shift`` seconds, change the body after signing, or leave the headers out."""

    secrets: tuple[str, ...] | None = None
    shift: int = 0
    tamper: bool = False
    unsigned: bool = False
    webhook_id: str | None = None


VALID = Delivery()


def signed_headers(
    session: VerifySession, receiver: str, body: bytes, how: Delivery
) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body`` as ``how`` says."""
    if how.unsigned:
        return {"Content-Type": "application/json"}
    msg_id = how.webhook_id or event_id()
    stamp = int(time.time()) + how.shift
    keys = how.secrets if how.secrets is not None else session.secrets_for(receiver)
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(keys, msg_id, stamp, body),
    }


async def deliver(
    session: VerifySession,
    receiver: str,
    body: Any,
    how: Delivery = VALID,
    *,
    raw: bytes | None = None,
) -> Answer:
    """POST one delivery of ``body`` (or ``raw`` bytes) to ``receiver``, signed as ``how`` says."""
    content = raw if raw is not None else json.dumps(body).encode()
    headers = signed_headers(session, receiver, content, how)
    if how.tamper:
        content = content.replace(b'"', b"'", 1) if raw is not None else _tampered(body)
    return await session.call(receiver, headers=headers, content=content, party=Party.NOBODY)


def _tampered(body: Mapping[str, Any]) -> bytes:
    changed = copy.deepcopy(dict(body))
    entity = next((k for k in ("lot", "bid", "contract") if isinstance(changed.get(k), dict)), None)
    if entity is not None:
        changed[entity]["_id"] = fresh_id()
    else:
        changed["event"] = str(changed.get("event", "")) + ".tampered"
    return json.dumps(changed).encode()


def other_secret() -> str:
    """A secret nobody configured."""
    return new_webhook_secret()


async def read_lot(session: VerifySession, lot_id: str) -> Answer:
    """The producer's own record of a lot (its operator API)."""
    return await session.call("getMarketplaceLot", path={"lotId": lot_id}, party=Party.OPERATOR)
