"""Run the model: Hypothesis explores step lists under a budget, shrinks what breaks an invariant,
and the :class:`Exploration` holds the shrunk steps, the violations and the rules that ran."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import HypothesisException
from hypothesis.internal.conjecture import engine
from hypothesis.stateful import run_state_machine_as_test

from lotflow.clock import Clock, SystemClock
from lotflow.explore.checks import Violation
from lotflow.explore.model import ModelViolationError, Outcome, build_model
from lotflow.explore.pair import CONTROLS, Pair
from lotflow.explore.steps import Step

__all__ = ["Budget", "Exploration", "explore", "explore_within"]


@dataclass(frozen=True)
class Budget:
    """How much to explore: ``examples`` step lists of at most ``steps`` steps each; ``seed``
    makes the draws reproducible (None: fresh draws); ``shrink`` minimises a counterexample,
    for ``shrink_seconds`` at most (each replay runs both portals, so shrinking is the slow
    part)."""

    examples: int = 15
    steps: int = 30
    seed: int | None = 0
    shrink: bool = True
    shrink_seconds: float = 60.0

    def settings(self) -> settings:
        phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if self.shrink else [])
        return settings(
            max_examples=self.examples,
            stateful_step_count=self.steps,
            derandomize=self.seed == 0,  # like the `fast` profile; another seed seeds the draws
            deadline=None,
            database=None,
            phases=phases,
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )


@dataclass
class Exploration:
    """The result: ``steps`` is the shrunk counterexample when ``violations`` is not empty."""

    violations: list[Violation]
    steps: list[Step]
    rules_run: dict[str, int]
    rules_not_run: list[str]
    runs: int
    error: str = ""
    aliases: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.violations and not self.error


def explore(make_pair: Callable[[], Pair], budget: Budget, controls: frozenset[str]) -> Exploration:
    """Explore the pair ``make_pair`` makes (one fresh pair per step list)."""
    outcome = Outcome()
    machine = build_model(make_pair, outcome)
    error = ""
    try:
        if budget.seed:
            machine = _seeded(machine, budget.seed)
        with _shrinking_for(budget.shrink_seconds):
            run_state_machine_as_test(machine, settings=budget.settings())
    except ModelViolationError:
        pass
    except (AssertionError, HypothesisException) as exc:  # a 5xx-less crash of the model itself
        error = f"{type(exc).__name__}: {exc}"
    if error and outcome.first is not None:  # broken once, then not again (running parties'
        outcome.violations, outcome.steps = outcome.first  # timing): what broke, unshrunk
        error = f"the first story that broke an invariant did not break it again: {error}"
    return Exploration(
        violations=list(outcome.violations),
        steps=list(outcome.steps) if outcome.violations else [],
        rules_run=dict(outcome.rules_run),
        rules_not_run=_not_run(controls),
        runs=outcome.runs,
        error=error,
        aliases=outcome.aliases,
    )


def explore_within(
    make_pair: Callable[[], Pair],
    budget: Budget,
    controls: frozenset[str],
    seconds: float,
    clock: Clock | None = None,
) -> Exploration:
    """Explore in rounds of ``budget`` (the seed moved on each round) until something breaks
    or ``seconds`` have passed: a budget in time rather than in examples."""
    clock = clock or SystemClock()
    deadline = clock.monotonic() + seconds
    total: Exploration | None = None
    for round_ in itertools.count():
        seed = None if budget.seed is None else budget.seed + round_
        found = explore(make_pair, replace(budget, seed=seed), controls)
        total = found if total is None else _merged(total, found)
        if not found.ok or clock.monotonic() >= deadline:
            return total
    raise AssertionError("unreachable")


def _merged(before: Exploration, after: Exploration) -> Exploration:
    rules = Counter(before.rules_run) + Counter(after.rules_run)
    return replace(after, rules_run=dict(rules), runs=before.runs + after.runs)


@contextmanager
def _shrinking_for(seconds: float) -> Iterator[None]:
    """Bound the time Hypothesis spends shrinking. Hypothesis has no setting for it, only its
    engine's module constant (5 minutes); it is set for the run and put back after."""
    previous = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if previous is None:  # a Hypothesis without the constant: shrink as it will
        yield
        return
    engine.MAX_SHRINKING_SECONDS = math.ceil(seconds)
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = previous


def _not_run(controls: frozenset[str]) -> list[str]:
    missing = sorted(CONTROLS - controls)
    names = {
        "network": "delivery faults (delay, drop, duplicate, reorder, lost answer, killed sender)",
        "outage": "receiver down",
        "clock": "time passing (expiry)",
        "restart": "buyer killed and restarted",
    }
    return [names[c] for c in missing]


def _seeded(machine: type, seed: int) -> type:
    from hypothesis import seed as hypothesis_seed

    return hypothesis_seed(seed)(machine)
