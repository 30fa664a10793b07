"""detectors: EfficientDet from any family member — graph-defined BiFPN/FPN/PANet, weighted
fusion, shared class/box heads, anchors, focal loss, decoding + NMS, D0–D7x configs.

Importing the package does not import torch: configs, topologies and the closed-form
``detector_cost`` are plain Python; the torch-backed names (``EfficientDet``, ``efficientdet``,
``anchor_boxes``) load on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .configs import RELEASED, DetConfig, from_phi, get_config, released
from .cost import detector_cost
from .topology import Topology, bifpn_nodes, fpn_nodes, panet_nodes

if TYPE_CHECKING:
    from .anchors import anchor_boxes
    from .model import EfficientDet, efficientdet

_LAZY = {"EfficientDet": ".model", "efficientdet": ".model", "anchor_boxes": ".anchors"}  # torch-backed

__all__ = ["RELEASED", "DetConfig", "EfficientDet", "Topology", "anchor_boxes", "bifpn_nodes", "detector_cost",
           "efficientdet", "fpn_nodes", "from_phi", "get_config", "panet_nodes", "released"]


def __getattr__(name: str) -> Any:
    """Load a torch-backed public name on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
