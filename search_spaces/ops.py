"""The torch building blocks: conv+BN+act, SE, MBConv / depthwise-separable / regular conv layers.

Every op of the MnasNet space is here; :mod:`search_spaces.builder` is the one function that
wires them from an Arch. Convolutions carry no bias (BN follows); SE convs do.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import BlockArgs
from .cost import se_reduced


def make_activation(name: str) -> nn.Module:
    return nn.SiLU(inplace=True) if name == "swish" else nn.ReLU(inplace=True)


class Conv2dSame(nn.Conv2d):
    """Conv2d with TensorFlow "SAME" padding: pad total max((ceil(H/s)−1)·s + k − H, 0),
    the smaller half before (asymmetric for even inputs with stride 2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        pad_h = _same_pad(height, self.kernel_size[0], self.stride[0])
        pad_w = _same_pad(width, self.kernel_size[1], self.stride[1])
        if pad_h or pad_w:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _same_pad(size: int, kernel: int, stride: int) -> int:
    return max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)


def make_conv(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, bias: bool = False,
              padding: str | None = None) -> nn.Conv2d:
    """A conv with symmetric k//2 padding, or TF "same" padding when padding == "same"."""
    if padding == "same" and (kernel > 1 or stride > 1):
        return Conv2dSame(cin, cout, kernel, stride, padding=0, groups=groups, bias=bias)
    return nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, groups=groups, bias=bias)


class ConvBnAct(nn.Module):
    """conv → BN → activation (activation optional: the linear projection has none)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1,
                 activation: str | None = "swish", bn: tuple[float, float] = (1e-3, 0.01),
                 padding: str | None = None) -> None:
        super().__init__()
        self.conv = make_conv(cin, cout, kernel, stride, groups, padding=padding)
        self.bn = nn.BatchNorm2d(cout, eps=bn[0], momentum=bn[1])
        self.act = make_activation(activation) if activation else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation: x · sigmoid(W2 · act(W1 · mean(x))), bottleneck from the block input."""

    def __init__(self, channels: int, reduced: int, activation: str) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1, bias=True)
        self.expand = nn.Conv2d(reduced, channels, 1, bias=True)
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.mean((2, 3), keepdim=True)
        scale = self.expand(self.act(self.reduce(scale)))
        return x * scale.sigmoid()


def drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth: zero whole samples with probability `rate`, rescale the rest."""
    if rate == 0.0 or not training:
        return x
    keep = 1.0 - rate
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


class BlockLayer(nn.Module):
    """One layer of a stage, built from its BlockArgs: MBConv (expansion ≥ 1; e1 = depthwise-separable)
    or a regular conv, with optional SE and the skip option of its BlockArgs."""

    def __init__(self, args: BlockArgs, activation: str, bn: tuple[float, float], drop_rate: float,
                 padding: str | None = None) -> None:
        super().__init__()
        cin, cout, k, s = args.in_filters, args.out_filters, args.kernel, args.stride
        self.drop_rate = drop_rate
        if args.op == "conv":
            mid = cout
            self.expand = None
            self.dw = ConvBnAct(cin, cout, k, s, activation=activation, bn=bn, padding=padding)
            self.project = None
        else:
            mid = cin * args.expand_ratio
            self.expand = (ConvBnAct(cin, mid, 1, activation=activation, bn=bn)
                           if args.expand_ratio != 1 else None)
            self.dw = ConvBnAct(mid, mid, k, s, groups=mid, activation=activation, bn=bn, padding=padding)
            self.project = ConvBnAct(mid, cout, 1, activation=None, bn=bn)
        self.se = (SqueezeExcite(mid, se_reduced(cin, args.se_ratio), activation)
                   if args.has_se else None)
        keeps_shape = s == 1 and cin == cout
        self.residual = args.skip == "identity" and keeps_shape or args.skip == "pool"
        self.shortcut: nn.Module | None = None
        if args.skip == "pool" and not keeps_shape:
            pool = nn.AvgPool2d(s, s, ceil_mode=True, count_include_pad=False) if s > 1 else nn.Identity()
            project = (ConvBnAct(cin, cout, 1, activation=None, bn=bn) if cin != cout else nn.Identity())
            self.shortcut = nn.Sequential(pool, project)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x if self.expand is None else self.expand(x)
        out = self.dw(out)
        if self.se is not None:
            out = self.se(out)
        if self.project is not None:
            out = self.project(out)
        if self.residual:
            identity = x if self.shortcut is None else self.shortcut(x)
            out = drop_path(out, self.drop_rate, self.training) + identity
        return out


