"""Portal settings through pydantic-settings: one registry of variables, failing closed.

Each reference portal declares its settings as a :class:`PortalSettings` subclass whose fields
name their environment variable (``validation_alias``), say what it holds (``description``) and
whether it is a secret; :meth:`PortalSettings.variables` reads that back as the registry of every
variable the portal reads (``lotflow doctor`` uses it, nothing retypes the names).

:meth:`PortalSettings.from_env` reads only the mapping it is given: the settings sources are cut
down to the init source, so neither ``os.environ`` nor a ``.env`` file is read behind the caller's
back. Blank values count as unset. Every problem is collected by pydantic and reported at once in
one ``ConfigError``: each missing key, secret, operator list or URL (the portal refuses to start,
it never runs open), and each bad value named with the value seen (never a secret's) and what was
expected. In demo mode the missing secrets and operators are generated first and recorded in
``generated``; demo mode cannot invent the other portal's address, and says so.

The checks of single values, and the strength every key needs (fail closed means refusing weak
keys too), are in ``reference.common.values``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Self

from lotflow.reference.common.values import (
    MIN_DISTINCT,
    MIN_KEY_BYTES,
    MIN_TOKEN_CHARS,
    Operator,
    check_choice,
    check_database_url,
    check_key,
    check_number,
    check_operators,
    check_switch,
    check_url,
    check_webhook_secrets,
    parse_operators,
    refuse,
    revealed,
    weakness,
)
from pydantic import BeforeValidator, Field, SecretStr, ValidationError, model_validator
from pydantic.config import JsonDict
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from lotflow.errors import ConfigError
from lotflow.ids import new_object_id
from lotflow.signing import new_webhook_secret

__all__ = [  # the value checks are re-exported: both portals' settings import them from here
    "MIN_DISTINCT",
    "MIN_KEY_BYTES",
    "MIN_TOKEN_CHARS",
    "SECRET_FORMS",
    "Operator",
    "PortalSettings",
    "Variable",
    "WebhookAuth",
    "check_choice",
    "check_database_url",
    "check_key",
    "check_number",
    "check_operators",
    "check_switch",
    "check_url",
    "check_webhook_secrets",
    "env_field",
    "parse_operators",
    "revealed",
    "weakness",
]

WebhookAuth = Literal["standard", "legacy-bearer"]
SECRET_FORMS = ("api-key", "webhook-secrets", "operators")
_GENERATORS: dict[str, Callable[[tuple[str, ...]], str]] = {
    "api-key": lambda _names: secrets.token_urlsafe(24),
    "webhook-secrets": lambda _names: new_webhook_secret(),
    "operators": lambda names: _demo_operators(names),
}


@dataclass(frozen=True)
class Variable:
    """One environment variable a portal reads: the registry entry ``lotflow doctor`` uses."""

    name: str
    meaning: str
    form: str  # "api-key", "webhook-secrets", "operators" (the secrets), "url" or ""
    required: bool
    default: str | None
    demo: bool  # demo mode generates it when it is missing
    aliases: tuple[str, ...] = ()  # names today's real portals also read for the same value

    @property
    def secret(self) -> bool:
        """Its value is never shown (only a fingerprint)."""
        return self.form in SECRET_FORMS


def env_field(
    name: str,
    meaning: str,
    default: Any = ...,
    *,
    form: str = "",
    demo: bool = False,
    aliases: tuple[str, ...] = (),
) -> Any:
    """A settings field read from the variable ``name`` (required unless a default is given);
    ``form`` says what it holds (see :class:`Variable`), ``demo`` that demo mode generates it."""
    extra: JsonDict = {"form": form, "demo": demo, "aliases": list(aliases)}
    return Field(default, validation_alias=name, description=meaning, json_schema_extra=extra)


class PortalSettings(BaseSettings):
    """What both portals' settings share: the registry, reading a mapping, demo generation."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", case_sensitive=True, validate_default=False
    )

    PORTAL: ClassVar[str]
    DEMO_OPERATORS: ClassVar[tuple[str, ...]]
    KEY_FIELD: ClassVar[str]  # the API key field, which no operator token may equal

    generated: Mapping[str, str] = Field(default_factory=dict, repr=False)
    webhook_auth: Annotated[
        WebhookAuth, BeforeValidator(check_choice("standard", "legacy-bearer"))
    ] = env_field(
        "LOTFLOW_WEBHOOK_AUTH",
        "how webhooks are authenticated: standard (signatures) or legacy-bearer (today's "
        "Authorization: Bearer <secret>, a security finding)",
        "standard",
    )
    auth_failure_limit: Annotated[
        int, BeforeValidator(check_number(integer=True, zero_ok=True))
    ] = env_field(
        "LOTFLOW_AUTH_FAILURE_LIMIT",
        "failed authentications a client address may make per minute before it is answered 429 "
        "until the minute has passed (0: no limit, e.g. behind a proxy that limits per client)",
        30,
    )
    validate_responses: Annotated[bool, BeforeValidator(check_switch)] = env_field(
        "LOTFLOW_VALIDATE_RESPONSES",
        "check every answer against the spec (a 500 if one breaks it)",
        True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what ``from_env`` passes: never ``os.environ`` or a file implicitly."""
        return (init_settings,)

    @classmethod
    def variables(cls) -> tuple[Variable, ...]:
        """Every variable this portal reads, in declaration order."""
        return tuple(
            _variable(info)
            for info in cls.model_fields.values()
            if isinstance(info.validation_alias, str)
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, demo: bool = False) -> Self:
        """Read the settings from ``env``; ``ConfigError`` naming every problem at once."""
        registry = cls.variables()
        values = _present(registry, env)
        generated = cls._generate(registry, values) if demo else {}
        fields: dict[str, Any] = {**values, **generated, "generated": generated}
        try:
            return cls(**fields)  # through the init source only (settings_customise_sources)
        except ValidationError as exc:
            raise ConfigError(_explain(cls.PORTAL, registry, exc, demo=demo)) from None

    @classmethod
    def problems(cls, env: Mapping[str, str]) -> list[tuple[str, str]]:
        """Each bad value in ``env`` as (variable, sentence naming it and what was expected),
        leaving out what is missing; ("", sentence) for a rule across variables."""
        registry = cls.variables()
        fields: dict[str, Any] = _present(registry, env)
        try:
            cls(**fields)
        except ValidationError as exc:
            return _sorted_errors(registry, exc)[1]
        return []

    @classmethod
    def _generate(cls, registry: tuple[Variable, ...], values: dict[str, str]) -> dict[str, str]:
        return {
            v.name: _GENERATORS[v.form](cls.DEMO_OPERATORS)
            for v in registry
            if v.demo and v.name not in values
        }

    @model_validator(mode="after")
    def _operator_tokens_differ_from_the_key(self) -> Self:
        """An operator token equal to the API key would let whoever holds the key act as an
        operator of this portal (a producer as the buyer, the buyer as a producer)."""
        key: SecretStr = getattr(self, self.KEY_FIELD)
        operators: tuple[Operator, ...] = getattr(self, "operators")  # noqa: B009 - declared by subclasses
        names = {info.validation_alias: name for name, info in type(self).model_fields.items()}
        if any(
            secrets.compare_digest(o.token.encode(), key.get_secret_value().encode())
            for o in operators
        ):
            key_name = next(alias for alias, name in names.items() if name == self.KEY_FIELD)
            op_name = next(alias for alias, name in names.items() if name == "operators")
            raise refuse(
                f"{op_name} holds a token equal to {key_name}; expected operator tokens that "
                "differ from the API key (whoever holds the key must not act as an operator)"
            )
        return self


def _present(registry: tuple[Variable, ...], env: Mapping[str, str]) -> dict[str, str]:
    """The registry's variables ``env`` sets, stripped (a blank value counts as unset)."""
    return {v.name: env[v.name].strip() for v in registry if env.get(v.name, "").strip()}


def _variable(info: FieldInfo) -> Variable:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    default = None if info.is_required() else info.default
    return Variable(
        name=str(info.validation_alias),
        meaning=info.description or "",
        form=str(extra.get("form") or ""),
        required=info.is_required(),
        default=None if default is None else _shown_default(default),
        demo=bool(extra.get("demo")),
        aliases=tuple(str(a) for a in extra.get("aliases") or ()),  # type: ignore[union-attr]
    )


def _shown_default(default: Any) -> str:
    if isinstance(default, bool):
        return "1" if default else "0"
    if isinstance(default, tuple):
        return "(none)" if not default else " ".join(map(str, default))
    return f"{default:g}" if isinstance(default, float) else str(default)


def _explain(
    portal: str, registry: tuple[Variable, ...], exc: ValidationError, *, demo: bool
) -> str:
    """One message naming every missing variable and every bad value."""
    missing, bad = _sorted_errors(registry, exc)
    lines = (_missing_text(portal, missing, demo=demo), *(line for _name, line in bad))
    return "\n".join(filter(None, lines))


def _sorted_errors(
    registry: tuple[Variable, ...], exc: ValidationError
) -> tuple[list[Variable], list[tuple[str, str]]]:
    """The missing variables, and each bad value as (variable, sentence naming it)."""
    by_name = {v.name: v for v in registry}
    missing: list[Variable] = []
    bad: list[tuple[str, str]] = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        variable = by_name.get(name)
        if error["type"] == "missing" and variable:
            missing.append(variable)
        elif variable and not variable.secret:
            bad.append((name, f"{name}={error['input']!r} {error['msg']}."))
        else:
            bad.append((name, f"{name + ': ' if name else ''}{error['msg']}."))
    return missing, bad


def _missing_text(portal: str, missing: list[Variable], *, demo: bool) -> str:
    if not missing:
        return ""
    lines = [
        f"  - {v.name}: {v.meaning}" + ("" if v.demo else " (set it: --demo cannot invent it)")
        for v in missing
    ]
    text = (
        f"The {portal} portal refuses to start without its keys, secrets, operators and the other "
        "portal's address (it never runs open). Missing:\n" + "\n".join(lines)
    )
    if any(v.demo for v in missing) and not demo:
        text += (
            "\nSet them, or start in demo mode (--demo) to generate the keys, secrets and "
            "operators."
        )
    return text


def _demo_operators(names: tuple[str, ...]) -> str:
    return json.dumps(
        [{"orgId": new_object_id(), "name": n, "token": secrets.token_urlsafe(24)} for n in names]
    )
