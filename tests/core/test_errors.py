"""The error tree: one base class, and a docstring that draws every class of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotflow import errors
from lotflow.errors import (
    ConfigError,
    InvalidSignatureError,
    LotflowError,
    MissingSignatureError,
    SignatureError,
    SpecError,
    StaleTimestampError,
    TransportError,
)

ALL_ERRORS = [getattr(errors, name) for name in errors.__all__]


@pytest.mark.parametrize("error", ALL_ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_is_a_lotflow_error_drawn_in_the_module_docstring(error: type) -> None:
    assert issubclass(error, LotflowError)
    assert error.__name__ in (errors.__doc__ or "")


@pytest.mark.parametrize(
    "error", [MissingSignatureError, InvalidSignatureError, StaleTimestampError]
)
def test_signature_failures_share_one_branch(error: type) -> None:
    assert issubclass(error, SignatureError)
    assert not issubclass(error, (ConfigError, SpecError, TransportError))


def test_a_spec_error_carries_the_path_of_the_bad_file() -> None:
    error = SpecError("broken", Path("spec/openapi/buyer.yaml"))
    assert error.path == Path("spec/openapi/buyer.yaml")
    assert str(error) == "broken"
    assert SpecError("no file known").path is None
