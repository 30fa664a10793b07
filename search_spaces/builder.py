"""The one builder: Arch → torch.nn.Module, the classifier or its features alone. No per-variant code paths.

Both build the same stem and layers under the same names (``stem``, ``blocks.N``), so one
state dict's body fits either; :func:`feature_info` says which module ends each stage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from .bounds import check_build_params
from .kinds import build_layer
from .ops import ConvBnAct, PooledStem

if TYPE_CHECKING:  # annotations only: search_spaces.arch imports this module lazily (Arch.build)
    from .arch import Arch


@dataclass(frozen=True)
class FeatureInfo:
    """One stage output, as timm's ``feature_info`` describes it: the module that produces it (the
    stage's last layer, ``blocks.N``), its channels, and its reduction (input side / map side)."""

    module: str
    channels: int
    reduction: int


def feature_info(arch: Arch) -> tuple[FeatureInfo, ...]:
    """Every stage output of `arch`, first stage first (no torch needed to compute it)."""
    return tuple(FeatureInfo(f"blocks.{end}", stage.out_filters, reduction)
                 for stage, reduction, end in zip(arch.stages, arch.feature_strides, _stage_ends(arch), strict=True))


def _stage_ends(arch: Arch) -> list[int]:
    """Index (in ``blocks``) of each stage's last layer."""
    ends, end = [], -1
    for stage in arch.stages:
        end += stage.repeats
        ends.append(end)
    return ends


def _body(arch: Arch, padding: str | None) -> tuple[ConvBnAct, nn.ModuleList]:
    """The stem conv and every layer, drop-path rate rising linearly with depth."""
    if padding not in (None, "same"):
        raise ValueError(f"padding must be None or 'same', got {padding!r}")
    bn = (arch.bn_eps, arch.bn_momentum)
    stem_type = PooledStem if arch.stem_pool else ConvBnAct
    stem = stem_type(arch.in_channels, arch.stem_channels, arch.stem_kernel, 2, activation=arch.activation, bn=bn,
                     padding=padding)
    layers = arch.layers()
    total = len(layers)
    blocks = nn.ModuleList(build_layer(args, arch.activation, bn, arch.drop_connect * index / total, padding)
                           for index, args in enumerate(layers))
    return stem, blocks


def _head(arch: Arch) -> tuple[nn.Module, nn.Linear]:
    """The classifier's 1×1 head conv (an identity where the arch has none) and fc."""
    bn = (arch.bn_eps, arch.bn_momentum)
    head = (ConvBnAct(arch.stages[-1].out_filters, arch.head_channels, 1, activation=arch.activation, bn=bn)
            if arch.head_channels else nn.Identity())
    return head, nn.Linear(arch.classifier_features, arch.num_classes)


def _run(stem: nn.Module, blocks: nn.ModuleList, x: torch.Tensor, taps: Sequence[int]) -> list[torch.Tensor]:
    """The outputs of layers `taps` (ascending), running no layer after the last of them."""
    x = stem(x)
    out = []
    last = max(taps, default=-1)
    for index, block in enumerate(blocks):
        if index > last:
            break
        x = block(x)
        if index in taps:
            out.append(x)
    return out


class EffNet(nn.Module):
    """Classifier built from an Arch: stem → layers → head → pool → dropout → fc.

    ``forward(x)`` returns logits; ``features(x)`` returns the last maps at strides 8, 16, 32,
    with channels ``feature_channels`` (detectors build :func:`build_features` instead).
    """

    def __init__(self, arch: Arch, padding: str | None = None) -> None:
        super().__init__()
        self.arch = arch
        self.stem, self.blocks = _body(arch, padding)
        head, classifier = _head(arch)
        self.head = head
        self.dropout = nn.Dropout(arch.dropout)
        self.classifier = classifier
        self.feature_info = feature_info(arch)
        # index of the last layer at each output stride, and its channels
        ends = _stage_ends(arch)
        self.feature_index = {info.reduction: end for info, end in zip(self.feature_info, ends, strict=True)}
        self.feature_channels = {info.reduction: info.channels for info in self.feature_info}
        self._feature_taps = [self.feature_index[s] for s in self.feature_strides]
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
        return _run(self.stem, self.blocks, x, self._feature_taps)


class EffNetFeatures(nn.Module):
    """The stem and stages of an Arch alone (no head conv, pooling, dropout or classifier).

    ``forward(x)`` returns the outputs of the stages ``out_indices`` (default: every stage),
    described by ``feature_info[i]`` for i in ``out_indices``; no layer after the last is run.
    """

    def __init__(self, arch: Arch, padding: str | None = None, out_indices: Sequence[int] | None = None) -> None:
        super().__init__()
        self.arch = arch
        self.stem, self.blocks = _body(arch, padding)
        self.feature_info = feature_info(arch)
        stages = len(self.feature_info)
        self.out_indices = tuple(range(stages)) if out_indices is None else tuple(out_indices)
        if not (self.out_indices and all(isinstance(i, int) and 0 <= i < stages for i in self.out_indices)
                and list(self.out_indices) == sorted(set(self.out_indices))):
            raise ValueError(f"out_indices must be ascending stage indices in 0..{stages - 1}, got {out_indices!r}")
        ends = _stage_ends(arch)
        self._taps = [ends[i] for i in self.out_indices]
        # The random draws of a classifier's head conv and fc (made at construction, then by initialise
        # after the body's) are made here too, on modules that are dropped: one seed gives this model the
        # classifier's stem and stage weights, and what is built next the same draws.
        unused = nn.ModuleList(_head(arch))
        initialise(self)
        initialise(unused)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return _run(self.stem, self.blocks, x, self._taps)


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


def build_features(arch: Arch, padding: str | None = None, out_indices: Sequence[int] | None = None) -> EffNetFeatures:
    """The stem and stages of `arch` (see :class:`EffNetFeatures`), with the classifier's weights under
    one seed; InputError (before allocating) when the classifier of `arch` is above MAX_BUILD_PARAMS
    (the bound is on the architecture, as :func:`build_model` applies it)."""
    check_build_params(arch.cost().params, arch.name)
    return EffNetFeatures(arch, padding=padding, out_indices=out_indices)
