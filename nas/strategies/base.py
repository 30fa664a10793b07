"""The strategy interface: propose token sequences, observe their rewards; asynchronous (any
number of proposals may be in flight) and seeded by a numpy Generator.

- ``propose() -> (trial_id, tokens)``: the next candidate (tokens of MnasNetSpace).
- ``observe(trial_id, reward)``: the reward of a proposal of this strategy.
- ``tell(tokens, reward)``: an observation the strategy did not propose in this process (a ledger
  row written after the last state save, replayed on resume).
- ``discard(trial_id)``: a proposal that will never be observed (failed trial).
- ``state_dict()`` / ``load_state_dict()``: everything needed to resume (RNG state, population,
  controller weights...) as torch-saveable plain data; in-flight proposals are not resumed.
- ``generation``: the strategy's natural batch, the default generation size B of a synchronous
  search (nas.schedules): PPO's batch, evolution's population, `DEFAULT_GENERATION` otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from search_spaces import MnasNetSpace

DEFAULT_GENERATION = 8  # generation size of strategies without a natural batch (random, TPE)


class Strategy:
    """Base class: id bookkeeping, RNG, pending proposals. Subclasses implement `_propose`,
    `_observe` and optionally `_state` / `_load_state`."""

    name = "base"

    def __init__(self, space: MnasNetSpace | None = None, seed: int | None = 0) -> None:
        self.space = space or MnasNetSpace()
        self.choices = tuple(self.space.choices)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.next_id = 0
        self.pending: dict[int, tuple[list[int], Any]] = {}
        self.observed = 0

    # ---------------------------------------------------------------- interface
    @property
    def generation(self) -> int:
        """Default generation size B of a synchronous search with this strategy."""
        return DEFAULT_GENERATION

    def propose(self) -> tuple[int, list[int]]:
        tokens, context = self._propose()
        tokens = [int(t) for t in tokens]
        trial_id = self.next_id
        self.next_id += 1
        self.pending[trial_id] = (tokens, context)
        return trial_id, tokens

    def observe(self, trial_id: int, reward: float) -> None:
        tokens, context = self.pending.pop(trial_id)
        self.observed += 1
        self._observe(tokens, float(reward), context)

    def tell(self, tokens: list[int], reward: float) -> None:
        self.observed += 1
        self._observe([int(t) for t in tokens], float(reward), None)

    def discard(self, trial_id: int) -> None:
        self.pending.pop(trial_id, None)

    def state_dict(self) -> dict[str, Any]:
        return {"strategy": self.name, "seed": self.seed, "next_id": self.next_id, "observed": self.observed,
                "rng": self.rng.bit_generator.state, **self._state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.next_id = int(state["next_id"])
        self.observed = int(state["observed"])
        self.rng.bit_generator.state = state["rng"]
        self.pending.clear()
        self._load_state(state)

    # ---------------------------------------------------------------- to implement
    def _propose(self) -> tuple[list[int], Any]:
        raise NotImplementedError

    def _observe(self, tokens: list[int], reward: float, context: Any) -> None:
        pass

    def _state(self) -> dict[str, Any]:
        return {}

    def _load_state(self, state: dict[str, Any]) -> None:
        pass
