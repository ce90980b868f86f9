"""The errors lotflow raises on purpose, all under one base class::

    LotflowError                 catch this to catch everything lotflow means to raise
     ├── ConfigError             bad settings, environment or command-line usage   (CLI exit 2)
     ├── SpecError               a spec file that cannot be read, parsed, resolved  (CLI exit 2)
     ├── ScenarioFileError       a scenario file that breaks the scenario format    (CLI exit 2)
     ├── TransportError          another party could not be reached over HTTP
     ├── ServerStartError        a local server did not come up before its deadline
     └── SignatureError          a webhook that fails authentication
          ├── MissingSignatureError   the signature (or legacy Authorization) headers are absent
          ├── InvalidSignatureError   no signature matches any configured secret
          └── StaleTimestampError     the signed timestamp is outside the accepted window

Other layers add their own subclasses (of ``LotflowError`` or of a branch above) in their own
modules. Errors on the wire are not exceptions of this tree: they are
:class:`lotflow.problems.Problem`. A message says what failed, where, the value seen, what was
expected, and what to do next.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "InvalidSignatureError",
    "LotflowError",
    "MissingSignatureError",
    "ScenarioFileError",
    "ServerStartError",
    "SignatureError",
    "SpecError",
    "StaleTimestampError",
    "TransportError",
]


class LotflowError(Exception):
    """Base of every error lotflow raises on purpose."""


class ConfigError(LotflowError):
    """Bad settings, environment variables or command-line usage."""


class SpecError(LotflowError):
    """A spec file that cannot be read, parsed or resolved; ``path`` names it when known."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class ScenarioFileError(LotflowError):
    """A scenario file that breaks the scenario format."""


class TransportError(LotflowError):
    """Another party could not be reached, or kept failing, over HTTP."""


class ServerStartError(LotflowError):
    """A server started in-process did not become ready before its deadline."""


class SignatureError(LotflowError):
    """A webhook that fails authentication (Standard Webhooks or the legacy bearer profile)."""


class MissingSignatureError(SignatureError):
    """The signature headers (or the legacy Authorization header) are absent."""


class InvalidSignatureError(SignatureError):
    """No signature matches any configured secret, or the signature headers are malformed."""


class StaleTimestampError(SignatureError):
    """The signed timestamp is too old or too far in the future."""
