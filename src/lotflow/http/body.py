"""The request body: read up to a limit, its media type checked, parsed as strict JSON; and the
reply's body encoded."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import ClientDisconnect, Request

from lotflow import jsontext
from lotflow.problems import Problem

__all__ = ["check_media_type", "encode_json", "parse_json", "read_body"]

_MAX_LENGTH_DIGITS = 18  # a Content-Length longer than this is over any limit; int() never sees it
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body; 413 ``payload_too_large`` past ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and not (declared.isascii() and declared.isdigit()):
        raise Problem.bad_request(f"Content-Length {declared!r} is not a byte count.")
    if declared is not None and (len(declared) > _MAX_LENGTH_DIGITS or int(declared) > limit):
        raise Problem.payload_too_large(limit)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Problem.payload_too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise Problem.bad_request("The client disconnected while sending the body.") from exc
    return b"".join(chunks)


def check_media_type(content_type: str | None, accepted: tuple[str, ...]) -> None:
    """415 unless ``content_type`` is one of the ``accepted`` media types the operation's spec
    declares (parameters such as ``charset`` aside): a ``+json`` type of the client's own is
    not ``application/json``, and what the contract does not name is not guessed at."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in accepted:
        raise Problem.unsupported_media_type(content_type, " or ".join(accepted))


def parse_json(raw: bytes) -> Any:
    """The JSON value of ``raw``; 400 ``invalid_json`` for anything that is not JSON text (NaN,
    Infinity and lone surrogates included) and for a number no float holds (``1e400``: it would
    be read as an infinity, which has no JSON text to store or answer with)."""
    try:
        value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        if _SURROGATE_ESCAPE.search(raw):  # rare: only then pay for the full check
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Problem.bad_request(
            "The body is not JSON text: it escapes a lone UTF-16 surrogate (\\ud800-\\udfff), "
            "which is not a character.",
            "invalid_json",
        ) from None
    except _OutOfRangeError as exc:
        raise Problem.bad_request(
            f"The body holds the number {exc.args[0]}, beyond what a double-precision float "
            "holds (about 1.8e308).",
            "invalid_json",
        ) from None
    except json.JSONDecodeError as exc:
        where = f" at line {exc.lineno}, column {exc.colno}"
        raise Problem.bad_request(
            f"The body is not JSON: {exc.msg}{where}.", "invalid_json"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise Problem.bad_request(f"The body is not JSON: {exc}.", "invalid_json") from exc
    else:
        return value


class _OutOfRangeError(ValueError):
    """A JSON number too large for a float."""


def _finite_float(text: str) -> float:
    number = float(text)
    if number - number != 0.0:  # an infinity (the text cannot spell NaN)
        raise _OutOfRangeError(text[:40])
    return number


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def encode_json(body: Any) -> bytes:
    """Compact UTF-8 JSON; ``None`` is no body at all."""
    if body is None:
        return b""
    return jsontext.encode(body)
