"""A cost band around the target: candidates outside [T·(1 − b), T·(1 + b)] are never trained.

`CostBand` wraps any strategy and draws from it by rejection: a proposal whose cost (closed-form
MACs, or predicted latency; the objective's `cost`) lies outside the band is discarded — as a trial
that never ran, so the wrapped strategy learns nothing from it — and the next one is drawn. What
is trained is the wrapped strategy's distribution conditioned on the band; the reward (MnasNet's
ACC·(cost/T)^w) is unchanged. Costs are free (≈0.2 ms per member), training is not: a proxy whose
accuracy does not grow with MACs the way ImageNet accuracy does lets the soft reward's small bonus
for cheap networks pick a baseline far below T (docs/PROXY.md), which a band rules out by design.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from search_spaces import InputError

from .base import Strategy

MAX_REJECTIONS = 100_000  # consecutive discarded proposals before the band is declared unreachable


def band_limits(target: float, band: float) -> tuple[float, float]:
    """[T·(1 − b), T·(1 + b)] in the target's unit (MACs or ms)."""
    return target * (1.0 - band), target * (1.0 + band)


def check_reachable(space: Any, cost: Callable[[list[int]], float], low: float, high: float,
                    tries: int = 20_000) -> None:
    """InputError unless some uniformly sampled member of `space` (seeded, ≤ `tries`) costs in [low, high]."""
    import numpy as np

    rng = np.random.default_rng(0)
    for _ in range(tries):
        if low <= cost(space.sample_tokens(rng)) <= high:
            return
    raise InputError(f"no member of the space in {tries} samples costs within the band [{low:g}, {high:g}]; "
                     "widen --band or change --target")


class CostBand(Strategy):
    """Proposals of `inner` with `low <= cost(tokens) <= high`; the others are discarded."""

    name = "band"

    def __init__(self, inner: Strategy, cost: Callable[[list[int]], float], low: float, high: float) -> None:
        super().__init__(inner.space, inner.seed)
        self.inner, self.cost, self.low, self.high = inner, cost, float(low), float(high)
        self.rejected = 0  # proposals discarded so far (the band's price in proposals, not in training)

    @property
    def generation(self) -> int:
        return self.inner.generation

    def _propose(self) -> tuple[list[int], Any]:
        for _ in range(MAX_REJECTIONS):
            inner_id, tokens = self.inner.propose()
            if self.low <= self.cost(tokens) <= self.high:
                return tokens, inner_id
            self.inner.discard(inner_id)
            self.rejected += 1
        raise InputError(f"the {self.inner.name} strategy proposed {MAX_REJECTIONS} candidates in a row outside the "
                         f"cost band [{self.low:g}, {self.high:g}]; widen --band")

    def _observe(self, tokens: list[int], reward: float, context: Any) -> None:
        if context is None:
            self.inner.tell(tokens, reward)
        else:
            self.inner.observe(context, reward)

    def discard(self, trial_id: int) -> None:
        entry = self.pending.pop(trial_id, None)
        if entry is not None:
            self.inner.discard(entry[1])

    def _state(self) -> dict[str, Any]:
        return {"inner": self.inner.state_dict(), "rejected": self.rejected}

    def _load_state(self, state: dict[str, Any]) -> None:
        self.inner.load_state_dict(state["inner"])
        self.rejected = int(state["rejected"])
