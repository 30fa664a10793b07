"""EfficientDet: backbone → feature network (BiFPN by default) → shared class/box heads.

``model(images)`` returns ``(class_outputs, box_outputs)``: lists over P3…P_max of
N × A·C × H_l × W_l and N × A·4 × H_l × W_l tensors (H_l = H / 2^l). ``model.detect(images)``
returns per image ``{"boxes", "scores", "classes"}``; ``model.loss(images, targets)`` the
training loss. Input sides must be multiples of 2^max_level, or are zero-padded (bottom/right)
when ``pad=True``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from search_spaces import Arch, InputError

from .anchors import anchor_boxes
from .backbone import build_backbone, resolve_detector
from .bifpn import FeatureNetwork
from .configs import DetConfig
from .heads import box_head, class_head
from .loss import check_targets, detection_loss
from .postprocess import postprocess
from .topology import Topology


class EfficientDet(nn.Module):
    """A detector from a :class:`DetConfig` and a backbone :class:`Arch`."""

    def __init__(self, config: DetConfig, backbone: Arch, pad: bool = False) -> None:
        super().__init__()
        self.config, self.backbone_arch, self.pad = config, backbone, pad
        self.topology = Topology.named(config.topology, config.min_level, config.max_level)
        self.backbone, channels = build_backbone(backbone)
        self.fpn = FeatureNetwork(self.topology, channels, config.fpn_filters, config.fpn_repeats, config.fusion)
        levels = config.max_level - config.min_level + 1
        self.class_net = class_head(config.fpn_filters, config.num_classes, config.num_anchors,
                                    config.head_repeats, levels)
        self.box_net = box_head(config.fpn_filters, config.num_anchors, config.head_repeats, levels)
        self._anchors: dict[tuple, torch.Tensor] = {}

    # ------------------------------------------------------------------ inputs
    def prepare(self, images: torch.Tensor, pad: bool | None = None) -> torch.Tensor:
        """Check N×C×H×W and the 2^max_level multiple; pad bottom/right with zeros if asked."""
        if images.dim() != 4 or images.shape[1] != self.backbone_arch.in_channels:
            raise InputError(f"images must be N x {self.backbone_arch.in_channels} x H x W, got {tuple(images.shape)}")
        multiple = self.config.size_multiple
        height, width = images.shape[-2:]
        if height % multiple or width % multiple:
            if not (self.pad if pad is None else pad):
                raise InputError(f"input {height}x{width} is not a multiple of 2^{self.config.max_level} = {multiple}; "
                                 "resize it or pass pad=True")
            images = F.pad(images, [0, -width % multiple, 0, -height % multiple])
        return images

    def anchors(self, height: int, width: int, device: torch.device | None = None) -> torch.Tensor:
        """Anchors (x1, y1, x2, y2 pixels) for a padded input of height × width, cached."""
        key = (height, width, str(device))
        if key not in self._anchors:
            c = self.config
            self._anchors[key] = anchor_boxes(height, width, c.min_level, c.max_level, c.num_scales,
                                              c.aspect_ratios, c.anchor_scale, device=device)
        return self._anchors[key]

    # ------------------------------------------------------------------ forward
    def forward(self, images: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        images = self.prepare(images)
        maps = self.fpn(self.backbone(images))
        return self.class_net(maps), self.box_net(maps)

    def loss(self, images: torch.Tensor, targets: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> dict:
        """Training loss; targets[i] = (boxes M×4 x1 y1 x2 y2 pixels, classes M in [0, num_classes))."""
        images = self.prepare(images)
        check_targets(targets, images.shape[0], self.config.num_classes)
        class_outputs, box_outputs = self(images)
        anchors = self.anchors(images.shape[-2], images.shape[-1], images.device)
        return detection_loss(class_outputs, box_outputs, anchors, targets, self.config.num_classes)

    @torch.no_grad()
    def detect(self, images: torch.Tensor, score_threshold: float = 0.05, iou_threshold: float = 0.5,
               max_detections: int = 100, pad: bool | None = None) -> list[dict[str, torch.Tensor]]:
        """Boxes (x1 y1 x2 y2 pixels, clipped to the unpadded image), scores (descending), classes."""
        height, width = images.shape[-2:]
        images = self.prepare(images, pad)
        class_outputs, box_outputs = self(images)
        anchors = self.anchors(images.shape[-2], images.shape[-1], images.device)
        return postprocess(class_outputs, box_outputs, anchors, (height, width), self.config.num_classes,
                           score_threshold, iou_threshold, max_detections)

    def describe(self) -> dict[str, Any]:
        c = self.config
        return {**c.to_dict(), "backbone": self.backbone_arch.name, "resolution": c.image_size,
                "backbone_arch": self.backbone_arch.to_dict()}


def efficientdet(spec: str | float | DetConfig = "d0", backbone: Any = None,
                 num_classes: int = DetConfig.num_classes,
                 pad: bool = False, **overrides: Any) -> EfficientDet:
    """EfficientDet from "d0"…"d7x", a compound coefficient φ, or a DetConfig.

    ``backbone``: None (the config's EfficientNet), an Arch, a preset name, an arch dict or a
    family member dict (see :func:`detectors.backbone.resolve_backbone`). ``overrides`` change
    config fields (fpn_filters, fusion, topology, image_size, …).
    """
    config, arch = resolve_detector(spec, backbone, num_classes, **overrides)
    return EfficientDet(config, arch, pad=pad)
