"""Class and box nets shared across levels (EfficientDet §3.3, automl ``ClassNet``/``BoxNet``).

``repeats`` × (separable 3×3 conv → per-level BN → swish), then a separable 3×3 prediction conv
with A·C (class) or A·4 (box) outputs. Conv weights are shared by all levels; batch norm is
per level (official). Class bias prior: b = −log((1 − π)/π), π = 0.01 (focal-loss init).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .layers import SeparableConv, batch_norm

PRIOR = 0.01


class Head(nn.Module):
    """``forward(maps) -> [N × A·outputs × H × W per level]``."""

    def __init__(self, width: int, outputs: int, num_anchors: int, repeats: int, num_levels: int,
                 prior: float | None = None) -> None:
        super().__init__()
        self.convs = nn.ModuleList(SeparableConv(width, width) for _ in range(repeats))
        self.norms = nn.ModuleList(nn.ModuleList(batch_norm(width) for _ in range(num_levels))
                                   for _ in range(repeats))
        self.act = nn.SiLU()
        self.predict = SeparableConv(width, num_anchors * outputs)
        for conv in [*self.convs, self.predict]:
            init_separable(conv)
        if prior is not None:
            nn.init.constant_(self.predict.pointwise.bias, -math.log((1 - prior) / prior))

    def forward(self, maps: list[torch.Tensor]) -> list[torch.Tensor]:
        out = []
        for level, x in enumerate(maps):
            for conv, norms in zip(self.convs, self.norms, strict=True):
                x = self.act(norms[level](conv(x)))
            out.append(self.predict(x))
        return out


def init_separable(conv: SeparableConv) -> None:
    """Variance scaling (fan-in, scale 1, normal) for both convs, zero bias (official heads)."""
    for weight in (conv.depthwise.weight, conv.pointwise.weight):
        fan_in = weight.shape[1] * weight.shape[2] * weight.shape[3]
        nn.init.normal_(weight, 0.0, math.sqrt(1.0 / fan_in))
    if conv.pointwise.bias is not None:
        nn.init.zeros_(conv.pointwise.bias)


def class_head(width: int, num_classes: int, num_anchors: int, repeats: int, num_levels: int) -> Head:
    return Head(width, num_classes, num_anchors, repeats, num_levels, prior=PRIOR)


def box_head(width: int, num_anchors: int, repeats: int, num_levels: int) -> Head:
    return Head(width, 4, num_anchors, repeats, num_levels)


def flatten_outputs(outputs: list[torch.Tensor], per_anchor: int) -> torch.Tensor:
    """[N × A·k × H × W per level] → N × ΣHWA × k, in anchor order (level, y, x, anchor)."""
    batch = outputs[0].shape[0]
    return torch.cat([o.permute(0, 2, 3, 1).reshape(batch, -1, per_anchor) for o in outputs], 1)
