"""Small conv building blocks shared by the feature network and the heads.

Batch norm uses the official EfficientDet settings (TF momentum 0.99 = PyTorch 0.01, eps 1e-3).
"""

from __future__ import annotations

import torch
from torch import nn

BN_EPS, BN_MOMENTUM = 1e-3, 0.01


def batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class SeparableConv(nn.Module):
    """Depthwise k×k (no bias) → pointwise 1×1 (with bias): Keras SeparableConv2D.

    Params k²·C_in + C_in·C_out + C_out; MACs H·W·(k²·C_in + C_in·C_out).
    """

    def __init__(self, cin: int, cout: int, kernel: int = 3, bias: bool = True) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, kernel, padding=kernel // 2, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))
