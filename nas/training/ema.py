"""An exponential moving average of a model's weights and BN statistics (EfficientNet's EMA).

TensorFlow's ``ExponentialMovingAverage(decay, num_updates)`` as the EfficientNet code uses it:
after update n (1-based) the shadow is  s ← d·s + (1 − d)·w  with  d = min(decay, (1 + n) / (10 + n)),
so a short run averages over its own length instead of over the 10,000 steps a decay of 0.9999
implies. Shadowed: every floating-point parameter and buffer (BN running mean/var); integer buffers
(BN's num_batches_tracked) are copied.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class ModelEma:
    """The shadow copy of `model` (a module of the same class, in eval mode, no gradients)."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.module = copy.deepcopy(model).eval().requires_grad_(False)
        self._pairs: tuple[list, list, list] | None = None
        self._source: nn.Module | None = None

    def rate(self) -> float:
        """The decay of the next update: min(decay, (1 + n) / (10 + n)), n the updates so far + 1."""
        n = self.updates + 1
        return min(self.decay, (1.0 + n) / (10.0 + n))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """One step of the average towards `model`'s current weights: s ← s + (1 − d)(w − s), one
        torch._foreach_lerp_ over every float tensor (the pairs are found once: the optimiser and
        load_state_dict update the live tensors in place)."""
        d = self.rate()
        self.updates += 1
        if self._pairs is None or self._source is not model:
            live, shadows = model.state_dict(), self.module.state_dict()
            floats = [name for name, shadow in shadows.items() if shadow.dtype.is_floating_point]
            others = [name for name in shadows if name not in set(floats)]
            self._pairs = ([shadows[n] for n in floats], [live[n].detach() for n in floats],
                           [(shadows[n], live[n]) for n in others])
            self._source = model
        shadows, lives, others = self._pairs
        torch._foreach_lerp_(shadows, lives, 1.0 - d)
        for shadow, value in others:
            shadow.copy_(value)

    def state_dict(self) -> dict:
        return {"updates": self.updates, "decay": self.decay, "module": self.module.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.updates, self.decay = int(state["updates"]), float(state["decay"])
        self.module.load_state_dict(state["module"])
