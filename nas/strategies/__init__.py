"""Search strategies behind one interface (see :mod:`nas.strategies.base`): ``random``,
``evolution`` (regularized evolution), ``ppo`` (the MnasNet LSTM controller trained with PPO),
``nni-evolution`` and ``nni-tpe`` (NNI 3.0's strategies through an in-process adapter)."""

from __future__ import annotations

import importlib
from typing import Any

from search_spaces import InputError, MnasNetSpace

from .base import Strategy
from .options import read_strategy_options

STRATEGIES: dict[str, str] = {
    "random": "nas.strategies.random:RandomSearch",
    "evolution": "nas.strategies.evolution:RegularizedEvolution",
    "ppo": "nas.strategies.ppo:PPOController",
    "nni-evolution": "nas.strategies.nni_adapter:NNIRegularizedEvolution",
    "nni-tpe": "nas.strategies.nni_adapter:NNITPE",
}


def check_strategy(name: str) -> None:
    if name not in STRATEGIES:
        raise InputError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")


def make_strategy(name: str, space: MnasNetSpace | None = None, seed: int | None = 0, **options: Any) -> Strategy:
    """The strategy called `name`, seeded; `options` (its record in nas.strategies.options, checked
    there) go to its constructor (e.g. population=)."""
    check_strategy(name)
    module, cls = STRATEGIES[name].split(":")
    return getattr(importlib.import_module(module), cls)(space, seed, **read_strategy_options(name, options))


__all__ = ["STRATEGIES", "Strategy", "check_strategy", "make_strategy", "read_strategy_options"]
