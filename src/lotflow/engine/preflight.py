"""What ``scenario run`` checks before the first step, and watches during the run, so that a
misconfigured pair of parties stops at once with a configuration error (exit 2) naming the
setting, instead of ending as contract failures after minutes of retries.

Before the first step (:meth:`Preflight.problems`), in this order, stopping at the first
unreachable party:

- each URL has an ``http(s)://`` scheme and answers; a portal that serves its ``/openapi.json``
  is identified by its paths, so swapped ``--buyer``/``--producer`` URLs are named as such;
- each credential is tried on a harmless read chosen from the spec (the first GET without path
  parameters that the credential's security scheme guards);
- every producer alias the scenario files act as has a token;
- a scenario with an outage or network step has the webhook tap to play it;
- when the webhook secret is known, a webhook signed with it is sent to the producer with a body
  no receiver accepts: a 401 means the producer holds another secret, a 4xx problem about the
  body means the signature passed (nothing is stored either way).

During the run (:meth:`Preflight.watch_webhooks`), while a step waits for the first webhook of
the run: a delivery the buyer lists (``listWebhookDeliveries``) that is not one lotflow saw
before the run and went to another URL than the tap's, a producer answering 401 to a webhook
the tap forwarded, or the first webhook expectation's deadline passing with nothing at all
reaching the tap (for a buyer that lists no deliveries) stops the run
(:class:`~lotflow.engine.checks.ConfigurationStop`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from lotflow.clock import Clock
from lotflow.engine.calls import Caller, Target
from lotflow.engine.checks import ConfigurationStop, StepAborted
from lotflow.engine.model import Scenario
from lotflow.engine.operations import OperationRef
from lotflow.engine.parties import Parties
from lotflow.ids import new_event_id
from lotflow.signing import signature_headers

__all__ = ["ConfigProblem", "Preflight", "aliases_used", "url_problem"]

BUYER_TOKEN_SETTING = "--buyer-token (LOTFLOW_BUYER_TOKEN)"  # noqa: S105 - an option name
API_KEY_SETTING = "--api-key (PRODUCER_API_KEY)"
WEBHOOK_URL = "the buyer's PRODUCER_DASHBOARD_WEBHOOK_URL"
SECRETS = (
    "the secrets: the buyer's PRODUCER_DASHBOARD_WEBHOOK_SECRET, the producer's "
    "BUYER_WEBHOOK_SECRET and MARKETPLACE_WEBHOOK_SECRET"
)
REFUSED = (401, 403)
TAP_STEPS = {"outage": "an outage step", "network": "a network step"}


@dataclass(frozen=True)
class ConfigProblem:
    """One thing to fix before scenarios can run: the setting and what is wrong with it."""

    setting: str
    message: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.message}"


def url_problem(option: str, url: str) -> ConfigProblem | None:
    """A problem when ``url`` is not an absolute http(s) URL (``localhost:3000`` is not)."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    return ConfigProblem(
        option, f"{url!r} is not an http(s) URL; write it with its scheme, e.g. http://{url}"
    )


def aliases_used(scenarios: Iterable[Scenario]) -> dict[str, str]:
    """Producer alias → the first scenario file that acts as it."""
    found: dict[str, str] = {}
    for scenario in scenarios:
        actors = [step.actor for step in scenario.steps]
        actors += [call.actor for step in scenario.steps for call in step.checks.calls()]
        for actor in actors:
            if actor.startswith("producer"):
                found.setdefault(scenario.producer_alias(actor), scenario.path.name)
    return found


class Preflight:
    """Checks the parties before a run and watches the webhook route during it."""

    def __init__(
        self,
        parties: Parties,
        operations: Mapping[str, OperationRef],
        specs: Mapping[str, dict[str, Any]],
        client: httpx.Client,
        clock: Clock,
        *,
        webhook_secret: str = "",
    ) -> None:
        self.parties = parties
        self.operations = operations
        self.specs = specs
        self.client = client
        self.clock = clock
        self.webhook_secret = webhook_secret
        self._caller = Caller(parties, operations, client, clock)
        self._known_deliveries: set[str] | None = None

    # ---------------------------------------------------------------- before the run
    def problems(self, scenarios: Iterable[Scenario]) -> list[ConfigProblem]:
        """Everything found wrong, in the order to fix it (empty: go ahead)."""
        urls = {"buyer": self.parties.buyer_url, "producer": self.parties.producer_url}
        found = [p for name, url in urls.items() if (p := url_problem(f"--{name}", url))]
        if found:
            return found
        found = self._identities(urls)
        if found:
            return found
        found += self._missing_aliases(scenarios)
        found += self._tap_needed(scenarios)
        found += self._credentials()
        if self.webhook_secret and not found:
            found += self._signed_probe()
        self._known_deliveries = self._delivery_ids()
        return found

    def _tap_needed(self, scenarios: Iterable[Scenario]) -> list[ConfigProblem]:
        """An outage or network step needs the tap: without one it can only fail."""
        if self.parties.tap is not None:
            return []
        for scenario in scenarios:
            for step in scenario.steps:
                if step.kind in TAP_STEPS:
                    return [
                        ConfigProblem(
                            "the webhook tap",
                            f"{scenario.path.name} step {step.id!r} is {TAP_STEPS[step.kind]}: "
                            "it needs lotflow's webhook tap between the buyer and the producer, "
                            "and none is set",
                        )
                    ]
        return []

    def _identities(self, urls: Mapping[str, str]) -> list[ConfigProblem]:
        served: dict[str, str | None] = {}
        for name, url in urls.items():
            try:
                served[name] = self._serves(url)
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc or 'no detail'}"
                return [
                    ConfigProblem(
                        f"--{name}",
                        f"cannot reach the {name} portal at {url} ({reason}); is it running, "
                        "and is the URL right?",
                    )
                ]
        if served == {"buyer": "producer", "producer": "buyer"}:
            return [
                ConfigProblem(
                    "--buyer/--producer",
                    f"the two URLs are swapped: {urls['buyer']} serves the Producer Portal's API "
                    f"and {urls['producer']} the Buyer Portal's",
                )
            ]
        return [
            ConfigProblem(
                f"--{name}", f"{urls[name]} serves the {other} portal's API, not the {name}'s"
            )
            for name, other in served.items()
            if other is not None and other != name
        ]

    def _serves(self, url: str) -> str | None:
        """Which portal's API ``url`` serves, by its ``/openapi.json`` paths (None: unknown)."""
        answer = self.client.get(url.rstrip("/") + "/openapi.json")
        try:
            paths = set((answer.json() or {}).get("paths") or ()) if answer.is_success else set()
        except (ValueError, AttributeError):
            return None
        overlap = {
            name: len(paths & set(spec.get("paths") or ())) for name, spec in self.specs.items()
        }
        best = max(overlap, key=lambda name: overlap[name], default=None)
        return best if best is not None and overlap[best] else None

    def _missing_aliases(self, scenarios: Iterable[Scenario]) -> list[ConfigProblem]:
        return [
            ConfigProblem(
                "--producer-token",
                f"{source} acts as producer {alias!r} but no token was given for it: add "
                f"--producer-token {alias}=<that producer operator's token>",
            )
            for alias, source in aliases_used(scenarios).items()
            if alias not in self.parties.producer_tokens
        ]

    def _credentials(self) -> list[ConfigProblem]:
        checks = [("operatorToken", "buyer", "", BUYER_TOKEN_SETTING)]
        checks.append(("producerApiKey", "producer", "", API_KEY_SETTING))
        checks += [
            ("producerOperatorToken", f"producer:{alias}", alias, f"--producer-token {alias}=…")
            for alias in self.parties.producer_tokens
        ]
        found = []
        for scheme, actor, alias, setting in checks:
            problem = self._try_credential(scheme, actor, alias, setting)
            if problem is not None:
                found.append(problem)
        return found

    def _try_credential(
        self, scheme: str, actor: str, alias: str, setting: str
    ) -> ConfigProblem | None:
        operation = self._harmless_read(scheme)
        if operation is None:
            return None
        status = self._read(operation, actor, alias)
        portal = self.operations[operation].portal
        if status == 404:  # a portal without /openapi.json: the first 404 tells it is the other
            ref = self.operations[operation]
            url = self.parties.buyer_url if portal == "buyer" else self.parties.producer_url
            return ConfigProblem(
                f"--{portal}",
                f"{url} answered 404 to {ref.method} {ref.path}, which every {portal} portal "
                f"serves: is it the {portal} portal (are --buyer and --producer swapped)?",
            )
        if status not in REFUSED:
            return None
        return ConfigProblem(
            setting,
            f"the {portal} portal refused it ({operation} answered {status}); check that it is "
            f"the value the {portal} portal was configured with",
        )

    def _harmless_read(self, scheme: str) -> str | None:
        """The first GET without path parameters whose first security scheme is ``scheme``."""
        return next(
            (
                op_id
                for op_id, ref in self.operations.items()
                if ref.method == "GET" and "{" not in ref.path and ref.security[:1] == (scheme,)
            ),
            None,
        )

    def _read(self, operation: str, actor: str, alias: str) -> int | None:
        target = Target(operation, actor, alias, {}, {}, None, "preflight")
        try:
            return self._caller.send(target).exchange.status
        except StepAborted:
            return None

    def _signed_probe(self) -> list[ConfigProblem]:
        body = json.dumps({"probe": "lotflow preflight: not an event"}).encode()
        headers = signature_headers([self.webhook_secret], new_event_id(), body, self.clock)
        url = self.parties.producer_url.rstrip("/") + self._lot_webhook_path()
        answer = self.client.post(
            url, content=body, headers={**headers, "content-type": "application/json"}
        )
        if answer.status_code not in REFUSED:
            return []
        return [
            ConfigProblem(
                "--webhook-secret",
                f"the producer refused a webhook signed with it ({answer.status_code} from "
                f"{url}): make {SECRETS} the same secret",
            )
        ]

    def _lot_webhook_path(self) -> str:
        hooks = self.specs["buyer"].get("webhooks") or {}
        item = hooks.get("lot.published", {}).get("post", {})
        return str(item.get("x-lotflow-delivery-path", "/api/webhooks/lots"))

    # ---------------------------------------------------------------- during the run
    def _delivery_ids(self) -> set[str] | None:
        """The ids of the deliveries the buyer lists now (None: it lists none we can read)."""
        operation = "listWebhookDeliveries"
        if operation not in self.operations:
            return None
        try:
            reply = self._caller.send(Target(operation, "buyer", "", {}, {}, None, "preflight"))
        except StepAborted:
            return None
        body = reply.body if isinstance(reply.body, dict) else {}
        items = body.get("deliveries") if reply.exchange.status == 200 else None
        return (
            {str(d.get("_id")) for d in items if isinstance(d, dict)}
            if isinstance(items, list)
            else None
        )

    def watch_webhooks(self, tap_url: str, seen: Iterable[Any], expired: bool = False) -> None:
        """Raise ConfigurationStop when the buyer's webhooks demonstrably miss the tap or the
        producer refuses their signatures. ``seen`` is what the tap recorded in this run;
        ``expired``: a webhook expectation's deadline has just passed unmet."""
        seen = list(seen)
        refused = [d for d in seen if getattr(d, "status", None) == 401]
        if refused:
            raise ConfigurationStop(
                f"the producer answered 401 to the buyer's {refused[0].event} webhook: it does "
                f"not accept the buyer's signature; make {SECRETS} the same secret",
                "PRODUCER_DASHBOARD_WEBHOOK_SECRET",
            )
        if seen or not tap_url:
            return
        if expired:
            raise ConfigurationStop(
                f"no webhook reached lotflow's webhook tap at {tap_url} by the deadline of the "
                f"first step that expects one: set {WEBHOOK_URL} to {tap_url}/api/webhooks/lots "
                "(and check the buyer can reach it)",
                "PRODUCER_DASHBOARD_WEBHOOK_URL",
            )
        if self._known_deliveries is None:
            return
        elsewhere = self._deliveries_elsewhere(tap_url)
        if elsewhere:
            event, url = elsewhere
            raise ConfigurationStop(
                f"the buyer sent {event} to {url}, not to lotflow's webhook tap: set "
                f"{WEBHOOK_URL} to {tap_url}/api/webhooks/lots and run again",
                "PRODUCER_DASHBOARD_WEBHOOK_URL",
            )

    def _deliveries_elsewhere(self, tap_url: str) -> tuple[str, str] | None:
        before = self._known_deliveries or set()
        try:
            reply = self._caller.send(
                Target("listWebhookDeliveries", "buyer", "", {}, {}, None, "preflight")
            )
        except StepAborted:
            return None
        body = reply.body if isinstance(reply.body, dict) else {}
        for item in body.get("deliveries") or ():
            if not isinstance(item, dict) or str(item.get("_id")) in before:
                continue
            url = str(item.get("url", ""))
            if not url.startswith(tap_url.rstrip("/") + "/"):
                return str(item.get("event", "a webhook")), url
        return None
