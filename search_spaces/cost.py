"""Analytic cost model: parameters and MACs of an Arch in closed form, no module built.

MACs count multiply-adds of convolutions and fully-connected layers (bias excluded); BN,
activations, pooling and element-wise products are free (docs/PAPER_FACTS.md, "Units"). A k×k conv
with stride s on an H×W map, symmetric or TF-"same" padding, outputs ceil(H/s)×ceil(W/s), so
both padding modes cost the same; the sizes of every stage come from :mod:`search_spaces.geometry`.
Each layer's closed form is its kind's (:mod:`search_spaces.kinds`); each stage is costed once (its
repeated layers are identical), cached by its fields.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from .geometry import STEM_KERNEL, stem_output_size
from .kinds import KINDS
from .kinds.base import se_reduced

if TYPE_CHECKING:
    from .arch import Arch
    from .blocks import BlockArgs


class Cost(NamedTuple):
    """params: trainable parameters (BN affine included); macs: multiply-adds at one image."""

    params: int
    macs: int


__all__ = ["Cost", "arch_cost", "classifier_cost", "features_cost", "head_cost", "layer_cost", "se_reduced",
           "stage_cost", "stem_cost"]


def stem_cost(in_channels: int, channels: int, out_size: int, kernel: int = STEM_KERNEL) -> tuple[int, int]:
    """(params, MACs) of the stem: a k×k conv + BN from `in_channels` to `channels` with out_size²
    outputs (ResNet's max pool after it is free). Plain arithmetic, so numpy arrays of channels work too."""
    params = kernel * kernel * in_channels * channels + 2 * channels
    macs = out_size * out_size * kernel * kernel * in_channels * channels
    return params, macs


def head_cost(in_channels: int, channels: int, size: int) -> tuple[int, int]:
    """(params, MACs) of the head: a 1×1 conv + BN on a size×size map (numpy arrays work too);
    (0, 0) for `channels` 0, an arch without a head conv."""
    return in_channels * channels + 2 * channels, size * size * in_channels * channels


def classifier_cost(features: int, classes: int) -> tuple[int, int]:
    """(params, MACs) of the fully-connected classifier (bias counted in params only)."""
    return features * classes + classes, features * classes


def layer_cost(layer: BlockArgs, size: int, *, in_filters: int | None = None, out_filters: int | None = None,
               stride: int | None = None) -> tuple[int, int, int]:
    """(params, MACs, output size) of one layer (repeats ignored) on a size×size input.

    `in_filters`, `out_filters`, `stride` cost the same layer with those values instead (cached,
    no BlockArgs built): the scaling engine costs every filter choice of a stage this way."""
    return _layer(layer.op, layer.in_filters if in_filters is None else in_filters,
                  layer.out_filters if out_filters is None else out_filters, layer.kernel,
                  layer.stride if stride is None else stride, layer.expand_ratio, layer.se_ratio, layer.skip, size)


@lru_cache(maxsize=65536)
def _layer(op: str, cin: int, cout: int, k: int, s: int, expand: int, se_ratio: float, skip: str,
           size: int) -> tuple[int, int, int]:
    out = -(-size // s)  # geometry.output_size, inline: this is the cost model's inner loop
    params, macs = KINDS[op].cost(cin, cout, k, s, expand, se_ratio, skip, size, out)
    return params, macs, out


@lru_cache(maxsize=65536)
def _stage(op: str, cin: int, cout: int, k: int, s: int, expand: int, se_ratio: float, skip: str, repeats: int,
           size: int) -> tuple[int, int, int]:
    """(params, MACs, output size) of a whole stage: its first layer plus repeats − 1 identical ones
    (the kind's closed form called directly: a scaled member's stages are mostly new keys)."""
    cost = KINDS[op].cost
    out = -(-size // s)
    params, macs = cost(cin, cout, k, s, expand, se_ratio, skip, size, out)
    if repeats > 1:
        p, m = cost(cout, cout, k, 1, expand, se_ratio, skip, out, out)
        params += p * (repeats - 1)
        macs += m * (repeats - 1)
    return params, macs, out


def stage_cost(stage: BlockArgs, size: int) -> tuple[int, int, int]:
    """(params, MACs, output size) of a scaled stage, all its repeats, on a size×size input."""
    return _stage(stage.op, stage.in_filters, stage.out_filters, stage.kernel, stage.stride, stage.expand_ratio,
                  stage.se_ratio, stage.skip, stage.repeats, size)


def arch_cost(arch: Arch, resolution: int | None = None) -> Cost:
    """Params and MACs of `arch` at `resolution` (default: the arch's own)."""
    params, macs, size, last = _body(arch, resolution)
    head = arch.head_channels
    head_params, head_macs = head_cost(last, head, size)
    fc_params, fc_macs = classifier_cost(head or last, arch.num_classes)
    return Cost(int(params + head_params + fc_params), int(macs + head_macs + fc_macs))


def features_cost(arch: Arch, resolution: int | None = None) -> Cost:
    """Params and MACs of the feature extractor alone (stem and stages; no 1×1 head conv, pooling or
    classifier) — the backbone a detector keeps."""
    params, macs, _, _ = _body(arch, resolution)
    return Cost(int(params), int(macs))


def _body(arch: Arch, resolution: int | None) -> tuple[int, int, int, int]:
    """(params, MACs, output size, output channels) of the stem and every stage. The stage walk is
    geometry.stage_geometry's, inlined (no record per stage): this is what `cost()` spends its time on."""
    resolution = resolution or arch.resolution
    size = stem_output_size(resolution, arch.stem_pool)
    cin = arch.stem_channels
    params, macs = stem_cost(arch.in_channels, cin, stem_output_size(resolution), arch.stem_kernel)
    for st in arch.stages:
        p, m, size = _stage(st.op, st.in_filters, st.out_filters, st.kernel, st.stride, st.expand_ratio, st.se_ratio,
                            st.skip, st.repeats, size)
        params += p
        macs += m
        cin = st.out_filters
    return params, macs, size, cin
