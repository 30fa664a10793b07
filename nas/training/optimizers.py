"""Optimisers of the training engine: one factory, and TF's RMSProp.

Weight decay applies to conv and linear weights only (not biases, BN or squeeze-excitation), as in
the proxy since it landed. ``rmsprop`` is torch's (ε added outside the square root, mean square
starting at 0: the proxy's, kept for its results); ``rmsprop-tf`` is TensorFlow 1's, which the
EfficientNet recipe trained with: ms starts at 1, ε inside the square root,
    ms ← ρ·ms + (1 − ρ)·g²,  mom ← μ·mom + lr·g / √(ms + ε),  w ← w − mom
(with ε = 1e-3 inside the root the effective damping is √ε ≈ 0.03, 30× torch's ε outside it).
"""

from __future__ import annotations

import torch
from torch import nn

OPTIMIZERS = ("sgd", "rmsprop", "rmsprop-tf", "adam", "adamw")


class RMSpropTF(torch.optim.Optimizer):
    """TensorFlow 1's RMSProp with momentum (module docstring); decoupled from torch's defaults."""

    def __init__(self, params, lr: float, alpha: float = 0.9, eps: float = 1e-3, momentum: float = 0.9,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        loss = None if closure is None else closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if group["weight_decay"]:
                    grad = grad.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if not state:
                    state["square_avg"] = torch.ones_like(p)
                    state["momentum_buffer"] = torch.zeros_like(p)
                square_avg, buf = state["square_avg"], state["momentum_buffer"]
                square_avg.mul_(group["alpha"]).addcmul_(grad, grad, value=1 - group["alpha"])
                buf.mul_(group["momentum"]).addcdiv_(grad, square_avg.add(group["eps"]).sqrt_(), value=group["lr"])
                p.sub_(buf)
        return loss


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Parameter groups: conv/linear weights (outside SE) with `weight_decay`, the rest without."""
    named = list(model.named_parameters())
    decay = [p for n, p in named if p.ndim > 1 and "se." not in n]
    plain = [p for n, p in named if not (p.ndim > 1 and "se." not in n)]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


def make_optimizer(model: nn.Module, name: str, lr: float, momentum: float = 0.9, weight_decay: float = 0.0,
                   rms_decay: float = 0.9, eps: float = 1e-3) -> torch.optim.Optimizer:
    """The optimiser `name` (OPTIMIZERS) over `model`'s parameters, weight decay as in decay_groups."""
    groups = decay_groups(model, weight_decay)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=momentum > 0)
    if name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, alpha=rms_decay, eps=eps, momentum=momentum)
    if name == "rmsprop-tf":
        return RMSpropTF(groups, lr=lr, alpha=rms_decay, eps=eps, momentum=momentum)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    return torch.optim.Adam(groups, lr=lr)
