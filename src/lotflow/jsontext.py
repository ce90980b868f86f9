"""Compact JSON text, the one encoder of every body and stored document lotflow writes.

orjson does the work (about a tenth of the standard library's time per document, which is a
large part of what a portal spends on a request). The standard library takes what orjson
refuses — integers beyond 64 bits, lone surrogates, keys that are not strings — and writes it
ASCII-escaped, so every value the standard encoder could write is still written and the text is
valid UTF-8 whatever its strings hold. Otherwise the text is UTF-8, not ASCII-escaped.

Not a number (NaN, an infinity) has no JSON text; orjson would write ``null`` for it. No such
value reaches an encoder: request bodies refuse every number a float cannot hold
(:func:`lotflow.http.body.parse_json`), and nothing lotflow computes from finite numbers is
stored unchecked. Parsing stays with the standard library (``json.loads``): orjson reads an
integer beyond 64 bits as a float, and a portal must not change a number it stores.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["dumps", "encode"]


def encode(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON bytes."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("ascii")


def dumps(value: Any) -> str:
    """``value`` as compact JSON text (see :func:`encode`)."""
    return encode(value).decode("utf-8")
