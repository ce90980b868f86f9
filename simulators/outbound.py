"""The producer simulator's calls to the buyer portal under test: recorded and checked.

:class:`RecordingBuyerTransport` is the ``buyer_transport`` of the reference producer inside
the producer simulator (and of the simulator's own reads): every call goes over the real network
(or ``inner``) to ``target`` (the buyer's base URL, settable after start-up), and the buyer's
answer is checked against ``buyer.yaml`` and recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import httpx
from lotflow.simulators.findings import Finding
from lotflow.simulators.recording import Exchange
from lotflow.simulators.state import SimulationState
from lotflow.simulators.urls import retarget
from lotflow.simulators.validation import CallChecker

__all__ = ["RecordingBuyerTransport"]


class RecordingBuyerTransport(httpx.BaseTransport):
    """Sends, checks the answer, records (see the module docstring)."""

    def __init__(self, state: SimulationState, *, inner: httpx.BaseTransport | None = None) -> None:
        self.state = state
        self.target = ""
        self._inner = inner or httpx.HTTPTransport()
        self._checker = CallChecker("buyer")

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        url = self._url(request.url)
        sent = httpx.Request(request.method, url, headers=request.headers, content=body)
        started, start = self.state.clock.now(), self.state.clock.monotonic()
        operation = self._checker.operation(request.method, url.path)
        subject = operation.operation_id if operation else f"{request.method} {url.path}"
        try:
            response = self._inner.handle_request(sent)
            answer = response.read()
        except httpx.HTTPError as exc:
            self._record(
                sent, subject, started, start, None, {}, b"", f"{type(exc).__name__}: {exc}"
            )
            raise
        headers = {k.lower(): v for k, v in response.headers.items()}
        findings = (
            self._checker.check_response(operation, response.status_code, headers, answer, "buyer")
            if operation
            else []
        )
        self._record(
            sent, subject, started, start, response.status_code, headers, answer, None, findings
        )
        return httpx.Response(response.status_code, headers=response.headers, content=answer)

    def _record(
        self,
        sent: httpx.Request,
        subject: str,
        started: datetime,
        start: float,
        status: int | None,
        headers: dict[str, str],
        answer: bytes,
        error: str | None,
        findings: Sequence[Finding] = (),
    ) -> None:
        exchange = Exchange(
            "call",
            "outbound",
            subject,
            sent.method,
            str(sent.url),
            {k.lower(): v for k, v in sent.headers.items()},
            sent.content,
            started,
            (self.state.clock.monotonic() - start) * 1000,
            status,
            headers,
            answer,
            error,
        )
        self.state.record(exchange, list(findings))

    def _url(self, url: httpx.URL) -> httpx.URL:
        return retarget(url, self.target)

    def close(self) -> None:
        self._inner.close()
