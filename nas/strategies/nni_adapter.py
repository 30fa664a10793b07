"""NNI 3.0 strategies driven in-process, without NNI's experiment manager.

The MnasNet space is expressed as an NNI model space: a ``nni.mutable.MutableDict`` of one
``Categorical`` per token (labels ``t00``..``t41``, values 0..choices[i]−1); an NNI sample
``{label: value}`` maps one-to-one to our tokens.

- ``nni-evolution``: ``nni.nas.strategy.RegularizedEvolution`` itself. ``initialize()`` with a
  stub engine hands us its feedback code (the TrainingEnd callback: append to the population,
  drop the oldest); its proposal code (``random()`` for the initial population,
  ``new_individual()``: tournament of ``sample_size`` and per-dimension mutation with probability
  ``mutation_prob``, with NNI's deduplication; retried by NNI's ``RetrySamplingHelper``) is called
  directly; ``state_dict()`` / ``load_state_dict()`` save and restore it. The glue is a tiny model
  record carrying ``.sample``/``.metric`` in place of an NNI execution engine's model, and the one
  private access, :func:`_running_models` (NNI has no public way to register or drop a model).
- ``nni-tpe``: the tuner inside ``nni.nas.strategy.TPE`` (``nni.algorithms.hpo.tpe_tuner.TpeTuner``,
  maximize mode) through ``update_search_space`` / ``generate_parameters`` /
  ``receive_trial_result`` / ``trial_end``, exactly what NNI's ``HPOTunerStrategy`` loop calls;
  resume builds a new tuner and replays the observed trials with its own ``import_data``.

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
from .options import NNIEvolutionOptions, TPEOptions


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


class _Engine:
    """The part of an NNI execution engine a strategy's `initialize()` uses: it registers the
    strategy's event callbacks (RegularizedEvolution: the TrainingEnd one, its feedback code)."""

    def __init__(self) -> None:
        self.callbacks: dict[Any, Any] = {}

    def register_model_event_callback(self, event_type: Any, callback: Any) -> None:
        self.callbacks[event_type] = callback


def _running_models(evo) -> list:
    """THE one access to NNI 3.0's private state (everything else here is its public API).

    RegularizedEvolution keeps the models it proposed and has not heard back about in
    ``_running_models``: its own ``_run`` loop appends each model it submits to the engine, and its
    TrainingEnd callback takes a model into the population only if it is in that list. NNI has no
    public way to register a model proposed outside ``_run`` (we propose in-process, without an
    engine) nor to forget one that will never finish (a discarded trial), so we do both on this list."""
    return evo._running_models


class NNIRegularizedEvolution(Strategy):
    """nni.nas.strategy.RegularizedEvolution, proposal/feedback driven in-process."""

    name = "nni-evolution"

    def __init__(self, space=None, seed: int | None = 0, population: int = NNIEvolutionOptions.population,
                 sample: int = NNIEvolutionOptions.sample, mutation_prob: float = NNIEvolutionOptions.mutation_prob,
                 dedup: bool = NNIEvolutionOptions.dedup) -> None:
        super().__init__(space, seed)
        _import_nni()
        from nni.nas.strategy.utils import RetrySamplingHelper

        self.options = {"population_size": population, "sample_size": sample, "mutation_prob": mutation_prob,
                        "dedup": dedup}
        self.retry = RetrySamplingHelper()  # (NNI's defaults, as RegularizedEvolution's own)
        self._start(int(self.rng.integers(2**31 - 1)))

    def _start(self, nni_seed: int) -> None:
        """A new NNI RegularizedEvolution on our model space; `self.on_training_end` its feedback."""
        from nni.nas.execution.event import ModelEventType
        from nni.nas.strategy import RegularizedEvolution

        self.nni = RegularizedEvolution(**self.options, seed=nni_seed)
        engine = _Engine()
        self.nni.initialize(model_space(self.choices), engine)
        self.on_training_end = engine.callbacks[ModelEventType.TrainingEnd]

    @property
    def generation(self) -> int:
        """A synchronous generation is one population (as for `evolution`)."""
        return int(self.nni.population_size)

    def _propose(self) -> tuple[list[int], Any]:
        evo = self.nni
        state = evo.state_dict()
        filling = len(state["population"]) + state["num_running_models"] < evo.population_size
        sample = self.retry.retry(evo.random if filling else evo.new_individual)
        if sample is None:
            raise RuntimeError("NNI RegularizedEvolution found no new sample (space exhausted?)")
        model = _Model(dict(sample))
        _running_models(evo).append(model)
        return [int(model.sample[label(i)]) for i in range(len(self.choices))], model

    def _observe(self, tokens: list[int], reward: float, context: Any) -> None:
        if context is None:
            context = _Model({label(i): t for i, t in enumerate(tokens)})
            _running_models(self.nni).append(context)
        context.metric = reward
        self.on_training_end(_Event(context))

    def discard(self, trial_id: int) -> None:
        entry = self.pending.pop(trial_id, None)
        if entry is not None and entry[1] in _running_models(self.nni):
            _running_models(self.nni).remove(entry[1])

    def _state(self) -> dict[str, Any]:
        state = self.nni.state_dict()
        name, keys, pos, has_gauss, cached = state["random_state"]
        return {"population": [[[int(ind.x[label(i)]) for i in range(len(self.choices))], float(ind.y)]
                               for ind in state["population"]],
                "individual_counter": int(state["individual_counter"]),
                "nni_random_state": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)]}

    def _load_state(self, state: dict[str, Any]) -> None:
        """A new NNI strategy (nothing running) loaded with NNI's own load_state_dict; its
        deduplication history: the population's samples."""
        from nni.nas.strategy.evolution import Individual
        from nni.nas.strategy.utils import DeduplicationHelper

        population = [Individual({label(i): int(t) for i, t in enumerate(tokens)}, float(reward))
                      for tokens, reward in state["population"]]
        dedup = DeduplicationHelper(raise_on_dup=True)
        if self.options["dedup"]:
            for individual in population:
                dedup.dedup(individual.x)
        name, keys, pos, has_gauss, cached = state["nni_random_state"]
        self._start(0)  # (the seed is replaced by the saved random state)
        self.nni.load_state_dict({"population": population, "individual_counter": int(state["individual_counter"]),
                                  "random_state": (name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached),
                                  **dedup.state_dict()})


class NNITPE(Strategy):
    """nni's TPE (the tuner of nni.nas.strategy.TPE) through generate_parameters/receive_trial_result."""

    name = "nni-tpe"

    def __init__(self, space=None, seed: int | None = 0, startup: int = TPEOptions.startup,
                 candidates: int = TPEOptions.candidates) -> None:
        super().__init__(space, seed)
        _import_nni()
        self.tpe_args = {"n_startup_jobs": startup, "n_ei_candidates": candidates}
        self.legacy_space = {name: m.as_legacy_dict() for name, m in model_space(self.choices).simplify().items()}
        self.history: list[tuple[list[int], float]] = []
        self._start(int(self.rng.integers(2**31 - 1)))

    def _start(self, seed: int) -> None:
        """A new TpeTuner (maximize) on our search space, nothing observed."""
        from nni.algorithms.hpo.tpe_tuner import TpeTuner

        self.tuner = TpeTuner(optimize_mode="maximize", seed=seed, tpe_args=self.tpe_args)
        self.tuner.update_search_space(self.legacy_space)

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
        """A new tuner fed the observation history (TpeTuner.import_data), then given the saved RNG state."""
        self._start(0)  # (the seed is replaced by the saved RNG state)
        self.history = []
        for tokens, reward in state["history"]:
            self._observe(list(tokens), float(reward), None)
        self.tuner.rng.bit_generator.state = state["tpe_rng"]
