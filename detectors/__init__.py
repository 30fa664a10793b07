"""detectors: EfficientDet from any family member — graph-defined BiFPN/FPN/PANet, weighted
fusion, shared class/box heads, anchors, focal loss, decoding + NMS, D0–D7x configs."""

from .anchors import anchor_boxes
from .configs import RELEASED, DetConfig, from_phi, get_config, released
from .cost import detector_cost
from .model import EfficientDet, efficientdet
from .topology import Topology, bifpn_nodes, fpn_nodes, panet_nodes

__all__ = ["RELEASED", "DetConfig", "EfficientDet", "Topology", "anchor_boxes", "bifpn_nodes", "detector_cost",
           "efficientdet", "fpn_nodes", "from_phi", "get_config", "panet_nodes", "released"]
