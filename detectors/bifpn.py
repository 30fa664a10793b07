"""The feature network as a module wired from a :class:`~detectors.topology.Topology` graph.

No per-node code: each cell walks the graph in topological order; for every edge it builds a
resampler (1×1 conv + BN when channels differ, then stride-2^k max-pool (kernel 2^k+1, official)
or nearest upsampling), fuses the inputs (:mod:`detectors.fusion`) and applies the official
post-fusion op: swish → depthwise-separable 3×3 conv (bias) → BN (automl ``OpAfterCombine``
with ``conv_bn_act_pattern=False``). P6…P_max are made from the last backbone map by the same
resampler (1×1 conv + BN if needed, then max-pool), as in the official code.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from search_spaces import InputError

from .fusion import Fusion
from .layers import SeparableConv, batch_norm
from .topology import Topology


class Resample(nn.Module):
    """Bring a map from level ``source`` to level ``target`` with ``cout`` channels."""

    def __init__(self, cin: int, cout: int, shift: int) -> None:
        super().__init__()
        self.shift = shift
        self.project = (nn.Sequential(nn.Conv2d(cin, cout, 1, bias=True), batch_norm(cout))
                        if cin != cout else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.project is not None:
            x = self.project(x)
        if self.shift > 0:
            stride = 2 ** self.shift
            x = F.max_pool2d(x, stride + 1, stride, padding=stride // 2)
        elif self.shift < 0:
            x = F.interpolate(x, scale_factor=float(2 ** -self.shift), mode="nearest")
        return x


class FeatureCell(nn.Module):
    """One BiFPN/FPN/PANet layer: ``forward(maps P_min…P_max) -> maps P_min…P_max`` (width W)."""

    def __init__(self, topology: Topology, in_channels: list[int], width: int, fusion: str) -> None:
        super().__init__()
        graph = topology.graph
        channels = dict(enumerate(in_channels))
        self.order = topology.order()
        self.sources: dict[int, list[int]] = {}
        self.resample, self.fuse, self.post = nn.ModuleDict(), nn.ModuleDict(), nn.ModuleDict()
        for node in self.order:
            edges = sorted(graph.in_edges(node, data="slot"), key=lambda edge: edge[2])
            sources = [source for source, _, _ in edges]
            level = graph.nodes[node]["level"]
            self.sources[node] = sources
            self.resample[str(node)] = nn.ModuleList(
                Resample(channels[s], width, level - graph.nodes[s]["level"]) for s in sources)
            self.fuse[str(node)] = Fusion(len(sources), fusion)
            self.post[str(node)] = nn.Sequential(nn.SiLU(), SeparableConv(width, width), batch_norm(width))
            channels[node] = width
        self.outputs = [topology.outputs[level] for level in topology.levels]
        for level, node in zip(topology.levels, self.outputs, strict=True):
            if channels[node] != width:
                raise InputError(f"output P{level} is a raw backbone map with {channels[node]} channels, not {width}")

    def forward(self, maps: list[torch.Tensor]) -> list[torch.Tensor]:
        values = dict(enumerate(maps))
        for node in self.order:
            key = str(node)
            inputs = [resample(values[s]) for resample, s in zip(self.resample[key], self.sources[node], strict=True)]
            values[node] = self.post[key](self.fuse[key](inputs))
        return [values[node] for node in self.outputs]


class FeatureNetwork(nn.Module):
    """Backbone maps C3…C5 → P3…P_max: extra levels by resampling, then ``repeats`` cells."""

    def __init__(self, topology: Topology, backbone_channels: list[int], width: int, repeats: int,
                 fusion: str = "fastattn") -> None:
        super().__init__()
        if repeats < 1:
            raise InputError(f"feature network needs at least 1 repeat, got {repeats}")
        extra = topology.num_inputs - len(backbone_channels)
        if extra < 0:
            raise InputError(f"{len(backbone_channels)} backbone maps for {topology.num_inputs} levels")
        last = backbone_channels[-1]
        self.extra = nn.ModuleList()
        for _ in range(extra):
            self.extra.append(Resample(last, width, 1))
            last = width
        channels = list(backbone_channels) + [width] * extra
        cells = []
        for _ in range(repeats):
            cells.append(FeatureCell(topology, channels, width, fusion))
            channels = [width] * topology.num_inputs
        self.cells = nn.ModuleList(cells)

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        maps = list(features)
        for resample in self.extra:
            maps.append(resample(maps[-1]))
        for cell in self.cells:
            maps = cell(maps)
        return maps
