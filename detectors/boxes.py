"""Box maths in (x1, y1, x2, y2) pixels: pairwise IoU and the Faster R-CNN box coder used by
EfficientDet (no scale factors): targets in the official order (ty, tx, th, tw) with
ty = (y_c − y_ca)/h_a, tx = (x_c − x_ca)/w_a, th = log(h/h_a), tw = log(w/w_a).
"""

from __future__ import annotations

import math

import torch

EPS = 1e-8
MAX_LOG = math.log(1000.0 / 16)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """|a| × |b| intersection over union."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    top_left = torch.max(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(-1)
    return inter / (area_a[:, None] + area_b[None, :] - inter).clamp(min=EPS)


def _centres(boxes: torch.Tensor) -> tuple[torch.Tensor, ...]:
    w = boxes[..., 2] - boxes[..., 0]
    h = boxes[..., 3] - boxes[..., 1]
    return boxes[..., 1] + h / 2, boxes[..., 0] + w / 2, h, w


def encode(boxes: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """Regression targets (ty, tx, th, tw) of `boxes` relative to `anchors` (same shape …×4)."""
    yc, xc, h, w = _centres(boxes)
    yca, xca, ha, wa = _centres(anchors)
    h, w, ha, wa = h + EPS, w + EPS, ha + EPS, wa + EPS
    return torch.stack([(yc - yca) / ha, (xc - xca) / wa, torch.log(h / ha), torch.log(w / wa)], -1)


def decode(codes: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`encode`: boxes (x1, y1, x2, y2) from (ty, tx, th, tw)."""
    yca, xca, ha, wa = _centres(anchors)
    ty, tx, th, tw = codes.unbind(-1)
    h = torch.exp(th.clamp(max=MAX_LOG)) * ha
    w = torch.exp(tw.clamp(max=MAX_LOG)) * wa
    yc, xc = ty * ha + yca, tx * wa + xca
    return torch.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], -1)
