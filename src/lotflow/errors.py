"""lotflow's errors. Every error lotflow raises on purpose derives from ``LotflowError``::

    LotflowError
     ├── ConfigError          bad settings, environment or command-line usage (CLI exit 2)
     ├── SpecError            a spec file that cannot be read, parsed or resolved (CLI exit 2)
     ├── ScenarioFileError    a scenario file that breaks the scenario format (CLI exit 2)
     ├── TransportError       another party cannot be reached over HTTP
     └── SignatureError       a webhook signature that does not verify
          ├── MissingSignatureError
          ├── InvalidSignatureError
          └── StaleTimestampError

A message says what failed, where, the value seen, what was expected, and what to do next.
"""

from __future__ import annotations


class LotflowError(Exception):
    """Base of every error lotflow raises on purpose."""


class ConfigError(LotflowError):
    """Bad settings, environment variables or command-line usage."""


class SpecError(LotflowError):
    """A spec file that cannot be read, parsed or resolved."""


class ScenarioFileError(LotflowError):
    """A scenario file that breaks the scenario format."""


class TransportError(LotflowError):
    """Another party could not be reached, or kept failing, over HTTP."""


class SignatureError(LotflowError):
    """A webhook signature that does not verify."""


class MissingSignatureError(SignatureError):
    """The signature headers (or the legacy Authorization header) are absent."""


class InvalidSignatureError(SignatureError):
    """No signature matches any configured secret."""


class StaleTimestampError(SignatureError):
    """The signature timestamp is outside the accepted window."""
