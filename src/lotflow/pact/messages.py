"""The provider side of the message pacts: each message is the webhook the buyer really sent.

Before a message interaction the verifier sets up its provider state, which makes the buyer do
the operation that sends the event (publish a lot, counter a bid, ...). :class:`WebhookProducer`
then waits for that delivery in the :class:`~lotflow.pact.inbox.WebhookInbox` (the event the
pact's message names, about the entity the state made) and hands the verifier its exact body,
with the signature headers as metadata. When none arrives, ``failures`` says why (the verifier
itself only sees a failed message request). Nothing is built by hand: a buyer that sends a wrong
body, or none within the deadline, fails the interaction by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pact.types import Message

from lotflow.errors import LotflowError
from lotflow.pact.inbox import CapturedWebhook, WebhookInbox
from lotflow.pact.names import read_pact
from lotflow.pact.stateserver import StateLog

__all__ = ["MessageNotSentError", "WebhookProducer", "message_events"]

_SUBJECTS = (("bidId", "bid"), ("lotId", "lot"))  # the state's entity, as the payload names it


class MessageNotSentError(LotflowError):
    """The buyer did not send the webhook a message interaction expects within the deadline."""


def message_events(pact_file: Path) -> dict[str, str]:
    """Description → event name of every message interaction in ``pact_file``."""
    data = read_pact(pact_file)
    found = {}
    for interaction in data.get("interactions", []):
        content = (interaction.get("contents") or {}).get("content")
        if isinstance(content, dict) and "event" in content:
            found[interaction["description"]] = str(content["event"])
    return found


@dataclass
class WebhookProducer:
    """Produces each message from the inbox (see the module docstring)."""

    events: Mapping[str, str]
    inbox: WebhookInbox
    states: StateLog
    timeout: float = 10.0
    failures: dict[str, str] = field(default_factory=dict)  # description → why no message

    def __call__(self, name: str, metadata: dict[str, Any] | None = None) -> Message:
        event = self.events.get(name)
        if event is None:
            raise MessageNotSentError(f"No message interaction {name!r} in the pact.")
        about = self.states.latest()
        found = self.inbox.wait_for(lambda w: _is(w, event, about), self.timeout)
        if found is None:
            self.failures[name] = (
                f"The buyer sent no {event} webhook about {_subject(about)} within "
                f"{self.timeout:g}s of its provider state; received: "
                f"{[w.event for w in self.inbox.received] or 'nothing'}."
            )
            raise MessageNotSentError(self.failures[name])
        return Message(
            contents=found.body, metadata=found.signature(), content_type="application/json"
        )


def _is(webhook: CapturedWebhook, event: str, about: Mapping[str, Any]) -> bool:
    if webhook.event != event:
        return False
    payload = webhook.payload
    for key, member in _SUBJECTS:
        if key in about:
            entity = payload.get(member) if isinstance(payload, dict) else None
            return isinstance(entity, dict) and entity.get("_id") == about[key]
    return True


def _subject(about: Mapping[str, Any]) -> str:
    named = [f"{member} {about[key]}" for key, member in _SUBJECTS if key in about]
    return named[0] if named else "any entity"
