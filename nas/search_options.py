"""A search's options, declared once: their names, types, defaults and bounds (one record).

`effnas search`'s flags, JOB.toml's ``[search]`` section (effnas.jobs: the same fields, each
optional, plus ``preset``) and a run's ``config.json`` are views of :class:`SearchOptions`;
:func:`nas.search.resolve_config` fills it as defaults ← preset ← explicit options and checks what
depends on several options (the target by objective, the scheduler by evaluator, the band's
reachability). How a run may differ from the run it resumes is nas.migrate's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from search_spaces.bounds import MAX_TRIALS, check_int, check_seed, check_trials
from search_spaces.schema import fields_of, spec

from .runners.schedulers import SCHEDULERS
from .runners.settings import DEFAULT_RUNNER


def _generation(value: int, what: str) -> None:
    check_int(value, what, 1, MAX_TRIALS)


@dataclass(frozen=True)
class SearchOptions:
    """What a search runs; config.json holds these keys (plus ``preset`` and ``schema``)."""

    target: int | float | None = None  # T: MACs, or milliseconds with objective latency (required)
    objective: str = "macs"  # macs | latency: the cost term of the reward
    reward: str = "soft"  # soft (a = b = -0.07) | hard (a = 0, b = -1) | user (alpha, beta)
    alpha: int | float | None = None  # the reward's exponent when cost <= T (reward user)
    beta: int | float | None = None  # the reward's exponent when cost > T (reward user)
    strategy: str = "ppo"  # ppo | evolution | random | nni-evolution | nni-tpe
    strategy_options: dict = field(default_factory=dict)  # checked by the strategy
    evaluator: str = "zero-cost"  # a registered evaluator (nas.evaluators)
    evaluator_config: dict = field(default_factory=dict)  # checked against the evaluator's OPTIONS
    trials: int = spec(100, check=check_trials)
    seed: int = spec(0, check=check_seed)  # the strategy's seed
    data: str | None = None  # a data directory/file for the proxy (ImageFolder, CIFAR batches)
    runner: str = DEFAULT_RUNNER  # inline | ray
    max_concurrent: int | None = None  # Ray trials at once (None: CPUs / cpus_per_trial)
    cpus_per_trial: int | float = 1.0
    gpus_per_trial: int | float = 0.0
    space: str = "wide"  # the MnasNet space's filter choices: wide | paper
    synchronous: bool = True  # generations observed in trial order: reproducible on any runner
    generation: int | None = spec(None, check=_generation)  # candidates per generation (None: the strategy's batch)
    band: int | float | None = None  # train only candidates within T·(1 ± band)
    scheduler: str | None = spec(None, choices=SCHEDULERS)  # asha | hyperband | None
    scheduler_options: dict = field(default_factory=dict)  # grace_period, reduction_factor, brackets


SEARCH_KEYS: tuple[str, ...] = tuple(fields_of(SearchOptions))
