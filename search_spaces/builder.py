"""The one builder: Arch → torch.nn.Module. No per-variant code paths."""

from __future__ import annotations

import math

import torch
from torch import nn

from .arch import Arch
from .bounds import check_build_params
from .ops import ConvBnAct, Layer


class EffNet(nn.Module):
    """Classifier built from an Arch: stem → layers → head → pool → dropout → fc.

    ``forward(x)`` returns logits; ``features(x)`` returns the last maps at strides 8, 16, 32
    (what detectors consume), with channels ``feature_channels``.
    """

    def __init__(self, arch: Arch, padding: str | None = None) -> None:
        super().__init__()
        if padding not in (None, "same"):
            raise ValueError(f"padding must be None or 'same', got {padding!r}")
        self.arch = arch
        bn = (arch.bn_eps, arch.bn_momentum)
        self.stem = ConvBnAct(arch.in_channels, arch.stem_channels, 3, 2, activation=arch.activation,
                              bn=bn, padding=padding)
        layers = arch.layers()
        total = len(layers)
        self.blocks = nn.ModuleList(
            Layer(args, arch.activation, bn, arch.drop_connect * index / total, padding)
            for index, args in enumerate(layers))
        last = layers[-1].out_filters
        self.head = ConvBnAct(last, arch.head_channels, 1, activation=arch.activation, bn=bn)
        self.dropout = nn.Dropout(arch.dropout)
        self.classifier = nn.Linear(arch.head_channels, arch.num_classes)
        # index of the last layer at each output stride (features for detectors)
        stride, self.feature_index, self.feature_channels = 2, {}, {}
        for index, args in enumerate(layers):
            stride *= args.stride
            self.feature_index[stride] = index
            self.feature_channels[stride] = args.out_filters
        self._feature_taps = {self.feature_index[s]: s for s in (8, 16, 32) if s in self.feature_index}
        initialise(self)

    @property
    def feature_strides(self) -> tuple[int, ...]:
        return tuple(s for s in (8, 16, 32) if s in self.feature_index)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_features(x).mean((2, 3))
        return self.classifier(self.dropout(x))

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Maps at strides 8, 16, 32 (the last layer of each), for feature pyramids."""
        x = self.stem(x)
        out = []
        last = max(self._feature_taps, default=-1)
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index in self._feature_taps:
                out.append(x)
            if index == last:
                break
        return out


def initialise(model: nn.Module) -> None:
    """Official EfficientNet initialisation: conv N(0, √(2/fan_out)) with fan_out = k·k·out/groups,
    fc U(±1/√out), zero biases, BN γ = 1, β = 0."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels // module.groups
            nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / fan_out))
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            bound = 1.0 / math.sqrt(module.out_features)
            nn.init.uniform_(module.weight, -bound, bound)
            nn.init.zeros_(module.bias)


def build_model(arch: Arch, padding: str | None = None) -> EffNet:
    """The classifier of `arch`; InputError (before allocating) above MAX_BUILD_PARAMS parameters."""
    check_build_params(arch.cost().params, arch.name)
    return EffNet(arch, padding=padding)
