"""The torch building blocks every kind composes: conv+BN+act, SE, drop path, the shortcuts, and
:class:`Layer`, the one layer container each kind's ``build`` fills (search_spaces.kinds.build_layer
builds a layer of any kind from its BlockArgs). :mod:`search_spaces.builder` is the one function that
wires them from an Arch. Convolutions carry no bias (BN follows); SE convs do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:  # annotations only: the kinds (search_spaces.kinds) import this module, not the reverse
    from .blocks import BlockArgs


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


class PooledStem(ConvBnAct):
    """ResNet's stem: the k×k conv + BN + activation, then a 3×3 max pool with stride 2 (padding 1)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pool = nn.MaxPool2d(3, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(super().forward(x))


def pool_shortcut(args: BlockArgs, bn: tuple[float, float]) -> nn.Module | None:
    """The ``pool`` skip of a layer that changes shape: average pooling (kernel = stride) then, when
    channels differ, a 1×1 conv + BN; None for every other layer."""
    keeps_shape = args.stride == 1 and args.in_filters == args.out_filters
    if args.skip != "pool" or keeps_shape:
        return None
    s = args.stride
    pool = nn.AvgPool2d(s, s, ceil_mode=True, count_include_pad=False) if s > 1 else nn.Identity()
    project = (ConvBnAct(args.in_filters, args.out_filters, 1, activation=None, bn=bn)
               if args.in_filters != args.out_filters else nn.Identity())
    return nn.Sequential(pool, project)


def projection(args: BlockArgs, bn: tuple[float, float]) -> nn.Module | None:
    """ResNet's shortcut where the shape changes: a strided 1×1 conv + BN (None where it is kept or
    the layer has no residual)."""
    if args.skip == "none" or args.stride == 1 and args.in_filters == args.out_filters:
        return None
    return ConvBnAct(args.in_filters, args.out_filters, 1, args.stride, activation=None, bn=bn)


class Layer(nn.Module):
    """One layer of a stage, as its kind composes it: the named `parts` (registered in the order
    given, which fixes a seed's random draws; None parts are absent) run in `order`; with
    `residual`, the result (drop path applied) is added to the input or to `shortcut(input)`;
    then `post` (ResNet's activation after the add)."""

    def __init__(self, kind: str, parts: Sequence[tuple[str, nn.Module | None]], order: Sequence[str],
                 residual: bool, shortcut: nn.Module | None = None, post: nn.Module | None = None,
                 drop_rate: float = 0.0) -> None:
        super().__init__()
        self.kind = kind
        for name, module in parts:
            setattr(self, name, module)
        self.order = tuple(name for name in order if getattr(self, name) is not None)
        self.residual = residual
        self.shortcut = shortcut
        self.post = post
        self.drop_rate = drop_rate

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        """The BN of the body's last conv (zeroed by zero-init-residual)."""
        for name in reversed(self.order):
            if isinstance(getattr(self, name), ConvBnAct):
                return getattr(self, name).bn
        raise LookupError(f"{self.kind} layer has no conv")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for name in self.order:
            out = self._modules[name](out)
        if self.residual:
            identity = x if self.shortcut is None else self.shortcut(x)
            out = drop_path(out, self.drop_rate, self.training) + identity
        return out if self.post is None else self.post(out)

    def extra_repr(self) -> str:
        return f"kind={self.kind}, residual={self.residual}"
