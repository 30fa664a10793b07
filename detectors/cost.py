"""Params and MACs of a detector in closed form: no module built, no torch.

MACs count convolutions and linear layers (bias excluded); BN, activations, pooling, resampling
and fusion weights cost nothing — the papers' convention. Params: every trainable tensor, BN
affine and fusion weights included. Parts, as the built :class:`~detectors.model.EfficientDet`
names them:

- backbone: stem and every stage of the Arch (no head conv or classifier), at the input size;
- fpn: extra levels P6…P_max (1×1 conv + BN when the channels differ, then max-pool), then per
  cell and node, per input a 1×1 conv (bias) + BN when its channels are not W (run at the
  input's level, before resampling), one fusion weight per input (none for ``sum``), and a
  separable 3×3 conv (depthwise 9·W, pointwise W·W + bias) + BN at the node's level;
- class_net / box_net: ``head_repeats`` separable convs shared by all levels with per-level BN,
  then a separable prediction conv to A·C (class) or A·4 (box) maps, run at every level.

Level l of an input of side R has side R / 2^l (R is a multiple of 2^max_level). The same count
from the built module on the meta device (torch's FlopCounterMode) is :func:`counted_detector_cost`;
tests check the two agree exactly.
"""

from __future__ import annotations

from typing import Any

from search_spaces import Cost, InputError
from search_spaces.bounds import check_build_params
from search_spaces.cost import features_cost

from .backbone import pyramid_stages, resolve_detector
from .configs import DetConfig
from .topology import TOPOLOGIES

PARTS = ("backbone", "fpn", "class_net", "box_net")


def detector_cost(spec: Any = "d0", resolution: int | None = None, backbone: Any = None,
                  breakdown: bool = False, pad: bool = False, **overrides: Any) -> Cost | tuple[Cost, dict[str, Cost]]:
    """Cost(params, macs) of ``efficientdet(spec, backbone, pad=pad, **overrides)`` at ``resolution``
    (default: the config's image size); with ``breakdown`` also per part (backbone, fpn, heads).

    Refuses (InputError) what building and running that model refuses, in the same order: a backbone
    above MAX_BUILD_PARAMS, a feature network whose output is a raw backbone map of the wrong width,
    an input side that is not a multiple of 2^max_level (padded up to one with ``pad``)."""
    config, arch = resolve_detector(spec, backbone, **overrides)
    check_build_params(arch.cost().params, arch.name)
    channels = _feature_channels(arch)
    _check_outputs(config, channels)
    size = resolution or config.image_size
    if size % config.size_multiple:
        if not pad:
            raise InputError(f"input {size}x{size} is not a multiple of 2^{config.max_level} = "
                             f"{config.size_multiple}; resize it or pass pad=True")
        size += -size % config.size_multiple
    parts = {"backbone": features_cost(arch, size), "fpn": _fpn_cost(config, channels, size),
             "class_net": _head_cost(config, config.num_classes, size), "box_net": _head_cost(config, 4, size)}
    total = Cost(sum(c.params for c in parts.values()), sum(c.macs for c in parts.values()))
    return (total, parts) if breakdown else total


def _feature_channels(arch: Any) -> list[int]:
    """Channels of the maps the feature network reads (the stage outputs of :func:`pyramid_stages`)."""
    return [arch.stages[index].out_filters for index in pyramid_stages(arch.feature_strides, arch.name)]


def _check_outputs(config: DetConfig, backbone_channels: list[int]) -> None:
    """Each level's output (its last node, or the input itself) must have W channels
    (detectors.bifpn.FeatureCell's check): a raw backbone map passed through must already be W wide."""
    levels = list(range(config.min_level, config.max_level + 1))
    nodes = TOPOLOGIES[config.topology](config.min_level, config.max_level)
    last = {level: index for index, level in enumerate(levels + [level for level, _ in nodes])}
    width = config.fpn_filters
    for level in levels:
        node = last[level]
        if node < len(backbone_channels) and backbone_channels[node] != width:
            raise InputError(f"output P{level} is a raw backbone map with {backbone_channels[node]} channels, "
                             f"not {width}")


def _side(size: int, level: int) -> int:
    return size // 2 ** level


def _projection(cin: int, width: int, side: int) -> tuple[int, int]:
    """(params, MACs) of a resampler's 1×1 conv (bias) + BN, or nothing when cin == width."""
    if cin == width:
        return 0, 0
    return cin * width + width + 2 * width, side * side * cin * width


def _fpn_cost(config: DetConfig, backbone_channels: list[int], size: int) -> Cost:
    levels = list(range(config.min_level, config.max_level + 1))
    nodes = TOPOLOGIES[config.topology](config.min_level, config.max_level)  # (level, input ids); inputs 0…L−1
    node_levels = levels + [level for level, _ in nodes]
    width = config.fpn_filters
    params = macs = 0
    last = backbone_channels[-1]
    extra = len(levels) - len(backbone_channels)
    for index in range(extra):
        p, m = _projection(last, width, _side(size, levels[len(backbone_channels) + index - 1]))
        params, macs, last = params + p, macs + m, width
    channels_in = list(backbone_channels) + [width] * extra
    separable_params, separable_macs = 9 * width + width * width + width, 9 * width + width * width
    fused = config.fusion != "sum"
    for _ in range(config.fpn_repeats):
        channels = dict(enumerate(channels_in))
        for index, (level, sources) in enumerate(nodes):
            for source in sources:
                p, m = _projection(channels.get(source, width), width, _side(size, node_levels[source]))
                params, macs = params + p, macs + m
            side = _side(size, level)
            params += (len(sources) if fused else 0) + separable_params + 2 * width
            macs += side * side * separable_macs
            channels[len(levels) + index] = width
        channels_in = [width] * len(levels)
    return Cost(params, macs)


def _head_cost(config: DetConfig, outputs: int, size: int) -> Cost:
    width, repeats = config.fpn_filters, config.head_repeats
    predicted = config.num_anchors * outputs
    levels = range(config.min_level, config.max_level + 1)
    params = repeats * (9 * width + width * width + width) + repeats * len(levels) * 2 * width
    params += 9 * width + width * predicted + predicted
    area = sum(_side(size, level) ** 2 for level in levels)
    macs = area * (repeats * (9 * width + width * width) + 9 * width + width * predicted)
    return Cost(params, macs)


def counted_detector_cost(spec: Any = "d0", resolution: int | None = None, backbone: Any = None,
                          **overrides: Any) -> tuple[Cost, dict[str, Cost]]:
    """The same breakdown counted on the built module: built on the meta device, run once on a
    1×3×R×R meta tensor under ``torch.utils.flop_counter.FlopCounterMode`` (MACs = flops / 2).
    Needs torch; the check on :func:`detector_cost`."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from .model import efficientdet

    with torch.device("meta"):
        model = efficientdet(spec, backbone=backbone, **overrides).eval()
        size = resolution or model.config.image_size
        images = torch.empty(1, model.backbone_arch.in_channels, size, size)
    counter = FlopCounterMode(display=False, depth=2)
    with counter, torch.no_grad():
        model(images)
    params = {part: sum(p.numel() for p in getattr(model, part).parameters()) for part in PARTS}
    total = Cost(sum(params.values()), int(counter.get_total_flops()) // 2)
    counts = counter.get_flop_counts()
    parts = {part: Cost(params[part], int(sum(counts.get(f"EfficientDet.{part}", {}).values())) // 2)
             for part in PARTS}
    return total, parts
