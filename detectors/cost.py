"""Params and MACs of a detector, counted on the built module without real compute.

The module is built on the meta device and run once on a meta tensor of 1×3×R×R under
``torch.utils.flop_counter.FlopCounterMode``; MACs = flops / 2 (convolutions and linear layers,
bias excluded; BN, activations, pooling, resampling and fusion weights cost nothing — the
papers' convention). Params: every trainable tensor, BN affine and fusion weights included.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from search_spaces import Cost

PARTS = ("backbone", "fpn", "class_net", "box_net")


def detector_cost(spec: Any = "d0", resolution: int | None = None, backbone: Any = None,
                  breakdown: bool = False, **overrides: Any) -> Cost | tuple[Cost, dict[str, Cost]]:
    """Cost(params, macs) of ``efficientdet(spec, backbone, **overrides)`` at ``resolution``
    (default: the config's image size); with ``breakdown`` also per part (backbone, fpn, heads)."""
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
    if not breakdown:
        return total
    counts = counter.get_flop_counts()
    parts = {}
    for part in PARTS[1:]:
        flops = sum(counts.get(f"EfficientDet.{part}", {}).values())
        parts[part] = Cost(params[part], int(flops) // 2)
    # backbone.features() bypasses the module's forward hook: its MACs are the remainder
    parts["backbone"] = Cost(params["backbone"], total.macs - sum(c.macs for c in parts.values()))
    return total, {part: parts[part] for part in PARTS}
