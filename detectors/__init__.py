"""detectors: EfficientDet from any family member — graph-defined BiFPN/FPN/PANet, weighted
fusion, shared class/box heads, anchors, focal loss, decoding + NMS, D0–D7x configs.

Importing the package does not import torch: configs, topologies and the closed-form
``detector_cost`` are plain Python; the torch-backed names (``EfficientDet``, ``efficientdet``,
``anchor_boxes``) load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from search_spaces.lazy import lazy_names

from .configs import RELEASED, DetConfig, from_phi, get_config, released
from .cost import detector_cost
from .topology import Topology, bifpn_nodes, fpn_nodes, panet_nodes

if TYPE_CHECKING:
    from .anchors import anchor_boxes
    from .model import EfficientDet, efficientdet

_LAZY = {"EfficientDet": ".model", "efficientdet": ".model", "anchor_boxes": ".anchors"}  # torch-backed

__all__ = ["RELEASED", "DetConfig", "EfficientDet", "Topology", "anchor_boxes", "bifpn_nodes", "detector_cost",
           "efficientdet", "fpn_nodes", "from_phi", "get_config", "panet_nodes", "released"]


__getattr__ = lazy_names(__name__, _LAZY)
