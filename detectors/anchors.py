"""Anchor boxes (automl ``anchors.py``): per level, scales anchor_scale · 2^level · 2^(i/num_scales)
× aspect ratios (x, y) factors, centred at stride/2 + stride·k. Boxes are (x1, y1, x2, y2) in
pixels, ordered (level, y, x, anchor) with anchor = scale_index · len(aspect_ratios) + aspect_index
— the order of the head outputs flattened by :func:`detectors.heads.flatten_outputs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where anchors are made: configs stay torch-free
    import torch

ASPECT_RATIOS = ((1.0, 1.0), (1.4, 0.7), (0.7, 1.4))


def anchor_boxes(height: int, width: int, min_level: int = 3, max_level: int = 7, num_scales: int = 3,
                 aspect_ratios: Sequence[tuple[float, float]] = ASPECT_RATIOS, anchor_scale: float = 4.0,
                 device: torch.device | str | None = None) -> torch.Tensor:
    """All anchors for an image of height × width pixels: K × 4 with K = Σ_l ⌈H/2^l⌉·⌈W/2^l⌉·A."""
    import torch

    levels = []
    for level in range(min_level, max_level + 1):
        stride = 2 ** level
        ys = torch.arange(stride / 2, height, stride, dtype=torch.float64, device=device)
        xs = torch.arange(stride / 2, width, stride, dtype=torch.float64, device=device)
        cy, cx = torch.meshgrid(ys, xs, indexing="ij")
        per_config = []
        for octave in range(num_scales):
            base = anchor_scale * stride * 2 ** (octave / num_scales)
            for ax, ay in aspect_ratios:
                hx, hy = base * ax / 2, base * ay / 2
                per_config.append(torch.stack([cx - hx, cy - hy, cx + hx, cy + hy], -1))
        levels.append(torch.stack(per_config, 2).reshape(-1, 4))
    return torch.cat(levels, 0).float()
