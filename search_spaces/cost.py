"""Analytic cost model: parameters and MACs of an Arch in closed form, no module built.

MACs count multiply-adds of convolutions and fully-connected layers (bias excluded); BN,
activations, pooling and element-wise products are free (docs/PAPER_FACTS.md, "Units"). A k×k conv
with stride s on an H×W map, symmetric or TF-"same" padding, outputs ceil(H/s)×ceil(W/s), so
both padding modes cost the same. Each stage is costed once: its repeated layers are identical.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from .rounding import round_filters, round_repeats

if TYPE_CHECKING:
    from .arch import Arch
    from .blocks import BlockArgs


class Cost(NamedTuple):
    """params: trainable parameters (BN affine included); macs: multiply-adds at one image."""

    params: int
    macs: int


def _ceil_div(value: int, divisor: int) -> int:
    return -(-value // divisor)


def se_reduced(in_filters: int, se_ratio: float) -> int:
    """SE bottleneck width: max(1, int(block input filters · se_ratio)) (official rule)."""
    return max(1, int(in_filters * se_ratio))


def layer_cost(layer: BlockArgs, size: int) -> tuple[int, int, int]:
    """(params, MACs, output size) of one layer (repeats ignored) on a size×size input."""
    return _layer(layer.op, layer.in_filters, layer.out_filters, layer.kernel, layer.stride,
                  layer.expand_ratio, layer.se_ratio, layer.skip, size)


@lru_cache(maxsize=65536)
def _layer(op: str, cin: int, cout: int, k: int, s: int, expand: int, se_ratio: float, skip: str,
           size: int) -> tuple[int, int, int]:
    out = _ceil_div(size, s)
    area_in, area_out = size * size, out * out
    params = macs = 0
    if op == "conv":
        mid = cout
        params += k * k * cin * cout + 2 * cout
        macs += area_out * k * k * cin * cout
    else:
        mid = cin * expand
        if expand != 1:
            params += cin * mid + 2 * mid
            macs += area_in * cin * mid
        params += k * k * mid + 2 * mid
        macs += area_out * k * k * mid
    if se_ratio > 0:
        reduced = se_reduced(cin, se_ratio)
        params += 2 * mid * reduced + reduced + mid
        macs += 2 * mid * reduced
    if op != "conv":
        params += mid * cout + 2 * cout
        macs += area_out * mid * cout
    if skip == "pool" and cin != cout:
        params += cin * cout + 2 * cout
        macs += area_out * cin * cout
    return params, macs, out


@lru_cache(maxsize=65536)
def _stage(op: str, cin: int, cout: int, k: int, s: int, expand: int, se_ratio: float, skip: str, repeats: int,
           size: int) -> tuple[int, int, int]:
    """(params, MACs, output size) of a whole stage: its first layer plus repeats − 1 identical ones."""
    params, macs, out = _layer(op, cin, cout, k, s, expand, se_ratio, skip, size)
    if repeats > 1:
        p, m, _ = _layer(op, cout, cout, k, 1, expand, se_ratio, skip, out)
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
    head, classes = arch.head_channels, arch.num_classes
    params += last * head + 2 * head + head * classes + classes
    macs += size * size * last * head + head * classes
    return Cost(int(params), int(macs))


def features_cost(arch: Arch, resolution: int | None = None) -> Cost:
    """Params and MACs of the feature extractor alone (stem and stages; no 1×1 head conv, pooling or
    classifier) — the backbone a detector keeps."""
    params, macs, _, _ = _body(arch, resolution)
    return Cost(int(params), int(macs))


def _body(arch: Arch, resolution: int | None) -> tuple[int, int, int, int]:
    """(params, MACs, output size, output channels) of the stem and every stage."""
    size = _ceil_div(resolution or arch.resolution, 2)
    stem = arch.stem_channels
    params = 9 * arch.in_channels * stem + 2 * stem
    macs = size * size * 9 * arch.in_channels * stem
    cin = stem
    pinned_filters, pinned_repeats = arch.stage_filters, arch.stage_repeats
    width, depth, divisor = arch.width, arch.depth, arch.divisor
    for index, block in enumerate(arch.blocks):
        cout = pinned_filters[index] if pinned_filters else round_filters(block.out_filters, width, divisor)
        repeats = pinned_repeats[index] if pinned_repeats else round_repeats(block.repeats, depth)
        p, m, size = _stage(block.op, cin, cout, block.kernel, block.stride, block.expand_ratio, block.se_ratio,
                            block.skip, repeats, size)
        params += p
        macs += m
        cin = cout
    return params, macs, size, cin
