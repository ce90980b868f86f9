"""The record of a simulation: every exchange with the portal under test, in order, with timings.

An :class:`Exchange` is one HTTP exchange: a call (the producer's API call to the buyer) or one
attempt of a webhook (with its webhook-id, attempt number and the delay since the previous
attempt of the same webhook-id), the faults applied to it and the findings it produced.
:class:`Recording` keeps them thread-safely; :meth:`Recording.to_har` writes HAR 1.2 (lotflow's
own fields are under ``_lotflow``, as HAR allows custom fields that start with an underscore)
and :func:`read_har` reads one back into exchanges.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from lotflow.simulators.findings import Finding

from lotflow import __version__

__all__ = ["REDACTED", "Exchange", "Recording", "read_har"]

REDACTED = "[redacted by lotflow]"
CREDENTIALS = frozenset({"authorization", "x-api-key", "cookie"})
"""Headers whose values a recording never keeps (webhook signatures are not secrets: kept)."""

Kind = Literal["call", "webhook"]
Direction = Literal["inbound", "outbound"]


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange between the simulator and the portal under test.

    ``direction`` is the request's, seen from the simulator. ``status`` is None when no answer
    came (a dropped or held webhook, a reset connection, a timeout); ``error`` then says why.
    """

    kind: Kind
    direction: Direction
    subject: str  # operationId or event name
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes
    started_at: datetime
    duration_ms: float
    status: int | None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    error: str | None = None
    webhook_id: str = ""
    attempt: int = 0
    since_previous_ms: float | None = None
    faults: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    index: int = -1

    @property
    def delivered(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def sent_and_delivered(self) -> bool:
        """A webhook the simulator sent, answered 2xx."""
        return self.kind == "webhook" and self.direction == "outbound" and self.delivered


class Recording:
    """Exchanges in order; webhook attempts numbered per webhook-id; credentials redacted."""

    def __init__(self) -> None:
        self._items: list[Exchange] = []
        self._attempts: dict[str, tuple[int, datetime]] = {}  # webhook-id → (attempts, last)
        self._lock = threading.Lock()

    def add(self, exchange: Exchange) -> Exchange:
        """Keep ``exchange``; returns it with its index (and attempt numbering) filled in."""
        headers = {
            k: REDACTED if k in CREDENTIALS else v for k, v in exchange.request_headers.items()
        }
        with self._lock:
            numbered = replace(exchange, index=len(self._items), request_headers=headers)
            if exchange.kind == "webhook" and exchange.webhook_id:
                numbered = self._numbered(numbered)
            self._items.append(numbered)
            return numbered

    def _numbered(self, exchange: Exchange) -> Exchange:
        count, last = self._attempts.get(exchange.webhook_id, (0, None))
        since = (exchange.started_at - last).total_seconds() * 1000 if last else None
        self._attempts[exchange.webhook_id] = (count + 1, exchange.started_at)
        return replace(exchange, attempt=count + 1, since_previous_ms=since)

    def attach(self, index: int, findings: tuple[Finding, ...]) -> None:
        """Attach the findings of exchange ``index``."""
        with self._lock:
            self._items[index] = replace(self._items[index], findings=findings)

    def all(self) -> list[Exchange]:
        """Every exchange, oldest first."""
        with self._lock:
            return list(self._items)

    def between(self, start: int, stop: int | None = None) -> list[Exchange]:
        """The exchanges from index ``start`` up to ``stop`` (the end when None)."""
        with self._lock:
            return self._items[start:stop]

    def clear(self) -> None:
        """Start a new recording."""
        with self._lock:
            self._items.clear()
            self._attempts.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def to_har(self, creator: str = "lotflow simulator") -> dict[str, Any]:
        """The recording as a HAR 1.2 document."""
        entries = [_entry(e) for e in self.all()]
        return {
            "log": {
                "version": "1.2",
                "creator": {"name": creator, "version": __version__},
                "pages": [],
                "entries": entries,
            }
        }

    def write(self, path: Path | str, creator: str = "lotflow simulator") -> Path:
        """Write :meth:`to_har` to ``path`` (UTF-8 JSON)."""
        target = Path(path)
        target.write_text(json.dumps(self.to_har(creator), indent=1), encoding="utf-8")
        return target


# ---------------------------------------------------------------- to HAR
def _entry(e: Exchange) -> dict[str, Any]:
    wait = max(e.duration_ms, 0.0)
    return {
        "startedDateTime": e.started_at.isoformat(),
        "time": wait,
        "request": _request(e),
        "response": _response(e),
        "cache": {},
        "timings": {"blocked": -1, "dns": -1, "connect": -1, "send": 0, "wait": wait, "receive": 0},
        "_lotflow": _extra(e),
    }


def _headers(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in headers.items()]


def _request(e: Exchange) -> dict[str, Any]:
    query = urlsplit(e.url).query
    request: dict[str, Any] = {
        "method": e.method,
        "url": e.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _headers(e.request_headers),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(query)],
        "headersSize": -1,
        "bodySize": len(e.request_body),
    }
    if e.request_body:
        mime = e.request_headers.get("content-type", "application/octet-stream")
        request["postData"] = {"mimeType": mime, "text": _text(e.request_body)}
    return request


def _response(e: Exchange) -> dict[str, Any]:
    content: dict[str, Any] = {
        "size": len(e.response_body),
        "mimeType": e.response_headers.get("content-type", ""),
    }
    if e.response_body:
        content["text"] = base64.b64encode(e.response_body).decode("ascii")
        content["encoding"] = "base64"
    return {
        "status": e.status or 0,
        "statusText": _reason(e.status),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _headers(e.response_headers),
        "content": content,
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": len(e.response_body) if e.status is not None else -1,
    }


def _reason(status: int | None) -> str:
    if status is None:
        return ""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def _extra(e: Exchange) -> dict[str, Any]:
    return {
        "index": e.index,
        "kind": e.kind,
        "direction": e.direction,
        "subject": e.subject,
        "webhookId": e.webhook_id,
        "attempt": e.attempt,
        "sincePreviousMs": e.since_previous_ms,
        "faults": list(e.faults),
        "error": e.error,
        "requestBodyBase64": base64.b64encode(e.request_body).decode("ascii"),
        "findings": [f.to_dict() for f in e.findings],
    }


# ---------------------------------------------------------------- from HAR
def read_har(path: Path | str) -> list[Exchange]:
    """The exchanges of a HAR file written by :meth:`Recording.write`."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    return [_exchange(entry) for entry in document["log"]["entries"]]


def _exchange(entry: dict[str, Any]) -> Exchange:
    extra, request, response = entry["_lotflow"], entry["request"], entry["response"]
    content = response["content"]
    return Exchange(
        kind=extra["kind"],
        direction=extra["direction"],
        subject=extra["subject"],
        method=request["method"],
        url=request["url"],
        request_headers={h["name"]: h["value"] for h in request["headers"]},
        request_body=base64.b64decode(extra["requestBodyBase64"]),
        started_at=datetime.fromisoformat(entry["startedDateTime"].replace("Z", "+00:00")),
        duration_ms=entry["time"],
        status=response["status"] or None,
        response_headers={h["name"]: h["value"] for h in response["headers"]},
        response_body=base64.b64decode(content.get("text", "")),
        error=extra["error"],
        webhook_id=extra["webhookId"],
        attempt=extra["attempt"],
        since_previous_ms=extra["sincePreviousMs"],
        faults=tuple(extra["faults"]),
        findings=tuple(Finding.from_dict(f) for f in extra["findings"]),
        index=extra["index"],
    )
