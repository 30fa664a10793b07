"""Each strategy's options, declared once as a record (read without torch, so a search's config is
checked before anything is imported or written); the strategies' constructors take their defaults
from these records. `--strategy-opt KEY=VALUE` and ``[search] strategy_options`` are read here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from search_spaces import InputError
from search_spaces.bounds import MAX_TRIALS, within
from search_spaces.schema import Style, python_names, read, spec


@dataclass(frozen=True)
class RandomOptions:
    """Random search has no options."""


@dataclass(frozen=True)
class EvolutionOptions:
    """Regularized evolution (Real et al. 2019): `population` members, parents the best of `sample`."""

    population: int = spec(20, check=within(1, MAX_TRIALS))
    sample: int = spec(5, check=within(1, MAX_TRIALS))


@dataclass(frozen=True)
class NNIEvolutionOptions(EvolutionOptions):
    """NNI 3.0's RegularizedEvolution: as evolution, plus its mutation probability and de-duplication."""

    mutation_prob: float = spec(0.05, check=within(0.0, 1.0))
    dedup: bool = True


@dataclass(frozen=True)
class TPEOptions:
    """NNI 3.0's TPE tuner: `startup` random trials, then `candidates` EI candidates a proposal."""

    startup: int = spec(20, check=within(0, MAX_TRIALS))
    candidates: int = spec(24, check=within(1, 100_000))


@dataclass(frozen=True)
class PPOOptions:
    """The MnasNet controller (an LSTM, `hidden` units) trained by PPO: Adam at `lr`, a `batch` of
    samples per update (a synchronous generation), `epochs` passes, ratio clip `clip`, a moving-average
    reward baseline (`baseline_decay`) and an entropy bonus (`entropy`)."""

    hidden: int = spec(64, check=within(1, 4096))
    lr: float = spec(0.005, check=within(0.0, 10.0))
    batch: int = spec(10, check=within(1, MAX_TRIALS))
    epochs: int = spec(4, check=within(1, 1000))
    clip: float = spec(0.2, check=within(0.0, 10.0))
    baseline_decay: float = spec(0.95, check=within(0.0, 1.0))
    entropy: float = spec(1e-4, check=within(0.0, 10.0))


OPTIONS: dict[str, type] = {"random": RandomOptions, "evolution": EvolutionOptions, "ppo": PPOOptions,
                            "nni-evolution": NNIEvolutionOptions, "nni-tpe": TPEOptions}
STYLE = Style(name="strategy option {key!r}", unknown="unknown option(s) {listed} for strategy {where}; known: {known}",
              type_names=python_names, coerce=True)


def read_strategy_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Every option of strategy `name` (given or its default), checked; InputError on an unknown one."""
    if name not in OPTIONS:
        raise InputError(f"unknown strategy {name!r}; known: {', '.join(OPTIONS)}")
    if not isinstance(options, Mapping):
        raise InputError(f"strategy options must be a table of key = value, got {options!r}")
    return read(OPTIONS[name], options, name, STYLE)
