"""NNI 3.0 strategies driven in-process, without NNI's experiment manager.

The MnasNet space is expressed as an NNI model space: a ``nni.mutable.MutableDict`` of one
``Categorical`` per token (labels ``t00``..``t41``, values 0..choices[i]−1); an NNI sample
``{label: value}`` maps one-to-one to our tokens.

- ``nni-evolution``: ``nni.nas.strategy.RegularizedEvolution`` itself. Its proposal code
  (``random()`` for the initial population, ``new_individual()``: tournament of ``sample_size``
  and per-dimension mutation with probability ``mutation_prob``, with NNI's deduplication and
  retry helpers) and its feedback code (``_training_end_callback``: append to the population,
  drop the oldest) are called directly; the only glue is a tiny model record carrying
  ``.sample``/``.metric`` in place of an NNI execution engine's model.
- ``nni-tpe``: the tuner inside ``nni.nas.strategy.TPE`` (``nni.algorithms.hpo.tpe_tuner.TpeTuner``,
  maximize mode) through ``update_search_space`` / ``generate_parameters`` /
  ``receive_trial_result``, exactly what NNI's ``HPOTunerStrategy`` loop calls; resume replays
  the observed trials with the tuner's own ``import_data``.

NNI's ``PolicyBasedRL`` is not offered: it needs tianshou, whose version pins conflict with
nni 3.0's; our own ``ppo`` strategy is the RL controller. ``nni`` is imported lazily (slow,
noisy) and is installed by the ``nni`` extra.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from search_spaces import InputError

from .base import Strategy


def _import_nni() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import nni  # noqa: F401
            import nni.nas.strategy  # noqa: F401
        except ImportError:
            raise InputError("NNI strategies need nni 3.0: pip install 'effnas[nni]'") from None
    for name in ("nni", "nni.nas.strategy.evolution", "nni.algorithms.hpo.tpe_tuner"):
        logging.getLogger(name).setLevel(logging.WARNING)


def label(i: int) -> str:
    return f"t{i:02d}"


def model_space(choices: tuple[int, ...]):
    """The MnasNet token space as an NNI model space (MutableDict of Categorical)."""
    from nni.mutable import Categorical, MutableDict

    return MutableDict({label(i): Categorical(list(range(n)), label=label(i)) for i, n in enumerate(choices)})


@dataclass(eq=False)
class _Model:
    """What NNI's strategies read from an engine's model: its sample and (later) its metric."""

    sample: dict
    metric: float | None = None


@dataclass
class _Event:
    model: _Model


class NNIRegularizedEvolution(Strategy):
    """nni.nas.strategy.RegularizedEvolution, proposal/feedback driven in-process."""

    name = "nni-evolution"

    def __init__(self, space=None, seed: int | None = 0, population: int = 20, sample: int = 5,
                 mutation_prob: float = 0.05, dedup: bool = True) -> None:
        super().__init__(space, seed)
        _import_nni()
        from nni.nas.strategy import RegularizedEvolution

        nni_seed = int(self.rng.integers(2**31 - 1))
        self.nni = RegularizedEvolution(population_size=population, sample_size=sample, mutation_prob=mutation_prob,
                                        dedup=dedup, seed=nni_seed)
        self.nni._model_space = model_space(self.choices)  # the engine-free equivalent of initialize()

    @property
    def generation(self) -> int:
        """A synchronous generation is one population (as for `evolution`)."""
        return int(self.nni.population_size)

    def _propose(self) -> tuple[list[int], Any]:
        evo = self.nni
        make = evo.random if len(evo._population) + len(evo._running_models) < evo.population_size else \
            evo.new_individual
        sample = evo._retry_helper.retry(make)
        if sample is None:
            raise RuntimeError("NNI RegularizedEvolution found no new sample (space exhausted?)")
        model = _Model(dict(sample))
        evo._running_models.append(model)
        return [int(model.sample[label(i)]) for i in range(len(self.choices))], model

    def _observe(self, tokens: list[int], reward: float, context: Any) -> None:
        if context is None:
            context = _Model({label(i): t for i, t in enumerate(tokens)})
            self.nni._running_models.append(context)
        context.metric = reward
        self.nni._training_end_callback(_Event(context))

    def discard(self, trial_id: int) -> None:
        entry = self.pending.pop(trial_id, None)
        if entry is not None and entry[1] in self.nni._running_models:
            self.nni._running_models.remove(entry[1])

    def _state(self) -> dict[str, Any]:
        name, keys, pos, has_gauss, cached = self.nni._random_state.get_state()
        return {"population": [[[int(ind.x[label(i)]) for i in range(len(self.choices))], float(ind.y)]
                               for ind in self.nni._population],
                "individual_counter": self.nni._individual_counter,
                "nni_random_state": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)]}

    def _load_state(self, state: dict[str, Any]) -> None:
        from nni.nas.strategy.evolution import Individual

        evo = self.nni
        evo._population.clear()
        evo._running_models.clear()
        if evo._dedup_helper is not None:
            evo._dedup_helper.reset()
        for tokens, reward in state["population"]:
            sample = {label(i): int(t) for i, t in enumerate(tokens)}
            evo._population.append(Individual(sample, float(reward)))
            if evo._dedup_helper is not None:
                evo._dedup_helper.dedup(sample)
        evo._individual_counter = int(state["individual_counter"])
        name, keys, pos, has_gauss, cached = state["nni_random_state"]
        evo._random_state.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))


class NNITPE(Strategy):
    """nni's TPE (the tuner of nni.nas.strategy.TPE) through generate_parameters/receive_trial_result."""

    name = "nni-tpe"

    def __init__(self, space=None, seed: int | None = 0, startup: int = 20, candidates: int = 24) -> None:
        super().__init__(space, seed)
        _import_nni()
        from nni.algorithms.hpo.tpe_tuner import TpeTuner

        self.tuner = TpeTuner(optimize_mode="maximize", seed=int(self.rng.integers(2**31 - 1)),
                              tpe_args={"n_startup_jobs": startup, "n_ei_candidates": candidates})
        self.legacy_space = {name: m.as_legacy_dict() for name, m in model_space(self.choices).simplify().items()}
        self.tuner.update_search_space(self.legacy_space)
        self.history: list[tuple[list[int], float]] = []

    def _propose(self) -> tuple[list[int], Any]:
        parameter_id = self.next_id
        params = self.tuner.generate_parameters(parameter_id)
        return [int(params[label(i)]) for i in range(len(self.choices))], (parameter_id, params)

    def _observe(self, tokens: list[int], reward: float, context: Any) -> None:
        self.history.append((tokens, reward))
        if context is None:
            self.tuner.import_data([{"parameter": {label(i): t for i, t in enumerate(tokens)}, "value": reward}])
            return
        parameter_id, params = context
        self.tuner.receive_trial_result(parameter_id, params, reward)

    def discard(self, trial_id: int) -> None:
        if self.pending.pop(trial_id, None) is not None:
            self.tuner.trial_end(trial_id, False)

    def _state(self) -> dict[str, Any]:
        return {"history": [[list(t), r] for t, r in self.history], "tpe_rng": self.tuner.rng.bit_generator.state}

    def _load_state(self, state: dict[str, Any]) -> None:
        """Rebuild the tuner from its observation history (TpeTuner.import_data) and its RNG state."""
        self.tuner._running_params.clear()
        self.tuner.update_search_space(self.legacy_space)
        self.history = []
        self.tuner._history.clear()
        for tokens, reward in state["history"]:
            self._observe(list(tokens), float(reward), None)
        self.tuner.rng.bit_generator.state = state["tpe_rng"]
