"""The spec as data: load and bundle the OpenAPI documents, index their operations, and compile
JSON Schema validators against them.

The source documents are split: ``buyer.yaml`` and ``producer.yaml`` reference the shared
``components.yaml`` as ``components.yaml#/components/schemas/X``. :func:`bundle` turns a portal
document into one self-contained OpenAPI 3.1 document whose refs are all local
(``#/components/schemas/X``): that bundled document is what servers serve, Schemathesis loads and
validators compile. Bundled documents are plain JSON data (timestamps stay strings, keys are
strings, no shared sub-objects); treat the cached ones as read-only.

The modules: :mod:`.loading` (YAML files), :mod:`.bundling`, :mod:`.refs` (``resolve``),
:mod:`.documents` (the cached portal documents, OpenAPI validation), :mod:`.index` (the
operations), :mod:`.security` (where a credential goes), :mod:`.validators` and
:mod:`.messages` (schema findings in words).
"""

from __future__ import annotations

from lotflow.openapi.bundling import bundle
from lotflow.openapi.documents import Portal, load_portal_spec, validate_spec
from lotflow.openapi.index import HTTP_METHODS, Operation, operations, path_pattern, webhooks
from lotflow.openapi.loading import load_yaml, spec_dir
from lotflow.openapi.refs import resolve
from lotflow.openapi.security import Credential, SecurityScheme, security_schemes
from lotflow.openapi.validators import Validator, validator_for

__all__ = [
    "HTTP_METHODS",
    "Credential",
    "Operation",
    "Portal",
    "SecurityScheme",
    "Validator",
    "bundle",
    "load_portal_spec",
    "load_yaml",
    "operations",
    "path_pattern",
    "resolve",
    "security_schemes",
    "spec_dir",
    "validate_spec",
    "validator_for",
    "webhooks",
]
