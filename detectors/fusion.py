"""Weighted feature fusion (EfficientDet §3.3).

- ``fastattn`` (default): O = Σ_i w_i / (ε + Σ_j w_j) · I_i with w_i = ReLU(w_i), ε = 1e-4;
- ``attn``: softmax-normalised weights, O = Σ_i softmax(w)_i · I_i;
- ``sum``: O = Σ_i I_i (no weights; D6–D7x).
One learnable scalar per input, initialised to 1 (official).
"""

from __future__ import annotations

import torch
from torch import nn

from search_spaces import InputError

from .configs import FUSIONS

__all__ = ["EPSILON", "FUSIONS", "Fusion"]

EPSILON = 1e-4


class Fusion(nn.Module):
    """Fuse same-shape maps with one of :data:`FUSIONS`."""

    def __init__(self, num_inputs: int, method: str = "fastattn", epsilon: float = EPSILON) -> None:
        super().__init__()
        if method not in FUSIONS:
            raise InputError(f"unknown fusion method {method!r}; known: {', '.join(FUSIONS)}")
        self.method, self.epsilon = method, epsilon
        self.weight = nn.Parameter(torch.ones(num_inputs)) if method != "sum" else None

    def normalised_weights(self) -> torch.Tensor | None:
        """The per-input factors actually applied (None for plain sum)."""
        if self.weight is None:
            return None
        if self.method == "attn":
            return torch.softmax(self.weight, 0)
        weight = torch.relu(self.weight)
        return weight / (weight.sum() + self.epsilon)

    def forward(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        weights = self.normalised_weights()
        if weights is None:
            return torch.stack(inputs, 0).sum(0)
        return sum(w * x for w, x in zip(weights.unbind(0), inputs, strict=True))
