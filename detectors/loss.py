"""Training targets and loss (EfficientDet §4.1, automl ``anchors.AnchorLabeler`` and ``FocalLoss``).

Matching (ArgMaxMatcher): an anchor is positive for the box of highest IoU when IoU ≥ 0.5,
negative below 0.5 (no ignore band), and every box is force-matched to its best anchor.
Loss = FL / (n_pos + 1) + 50 · Huber_δ=0.1 / (4 · (n_pos + 1)), with the focal loss
FL = −α_t (1 − p_t)^γ log p_t, α = 0.25, γ = 1.5, summed over anchors × classes, and the
Huber loss summed over the four box targets of positive anchors (n_pos over the batch).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from search_spaces import InputError

from .boxes import box_iou, encode
from .heads import flatten_outputs

ALPHA, GAMMA, DELTA, BOX_WEIGHT, MATCH_THRESHOLD = 0.25, 1.5, 0.1, 50.0, 0.5


def match_anchors(anchors: torch.Tensor, boxes: torch.Tensor, classes: torch.Tensor,
                  threshold: float = MATCH_THRESHOLD) -> tuple[torch.Tensor, torch.Tensor]:
    """(class targets K (−1 = background), box targets K × 4 (ty, tx, th, tw); zero where negative)."""
    count = anchors.shape[0]
    class_targets = torch.full((count,), -1, dtype=torch.long, device=anchors.device)
    box_targets = torch.zeros((count, 4), device=anchors.device)
    if boxes.numel() == 0:
        return class_targets, box_targets
    iou = box_iou(anchors, boxes)                       # K × M
    best_iou, best_box = iou.max(1)
    matched = best_iou >= threshold
    forced = iou.argmax(0)                              # best anchor per box (force match)
    best_box[forced] = torch.arange(boxes.shape[0], device=anchors.device)
    matched[forced] = True
    class_targets[matched] = classes[best_box[matched]].long()
    box_targets[matched] = encode(boxes[best_box[matched]], anchors[matched]).float()
    return class_targets, box_targets


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, alpha: float = ALPHA, gamma: float = GAMMA) -> torch.Tensor:
    """Element-wise sigmoid focal loss (official form: α_t (1 − p_t)^γ · BCE)."""
    prob = logits.sigmoid()
    p_t = targets * prob + (1 - targets) * (1 - prob)
    alpha_t = targets * alpha + (1 - targets) * (1 - alpha)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    return alpha_t * (1 - p_t) ** gamma * ce


def check_targets(targets: Sequence[tuple[torch.Tensor, torch.Tensor]], batch: int, num_classes: int) -> None:
    """Refuse target lists of the wrong length, boxes not M×4 or class ids outside [0, C)."""
    if len(targets) != batch:
        raise InputError(f"{len(targets)} target sets for a batch of {batch} images")
    for index, (boxes, classes) in enumerate(targets):
        boxes, classes = torch.as_tensor(boxes), torch.as_tensor(classes)
        if boxes.numel() and (boxes.dim() != 2 or boxes.shape[1] != 4 or boxes.shape[0] != classes.numel()):
            raise InputError(f"targets[{index}]: boxes must be M x 4 with M class ids, got {tuple(boxes.shape)}")
        if classes.numel() and (classes.min() < 0 or classes.max() >= num_classes):
            raise InputError(f"class ids must lie in [0, {num_classes}), got {classes.tolist()}")


def detection_loss(class_outputs: list[torch.Tensor], box_outputs: list[torch.Tensor], anchors: torch.Tensor,
                   targets: Sequence[tuple[torch.Tensor, torch.Tensor]], num_classes: int) -> dict[str, torch.Tensor]:
    """Focal + weighted Huber loss of a batch; `targets[i]` = (boxes M×4 xyxy pixels, classes M in [0, C))."""
    logits = flatten_outputs(class_outputs, num_classes)
    regress = flatten_outputs(box_outputs, 4)
    if logits.shape[1] != anchors.shape[0]:
        raise InputError(f"{logits.shape[1]} predictions for {anchors.shape[0]} anchors")
    check_targets(targets, logits.shape[0], num_classes)
    class_targets, box_targets = [], []
    for boxes, classes in targets:
        classes = torch.as_tensor(classes, device=anchors.device)
        c, b = match_anchors(anchors, torch.as_tensor(boxes, dtype=torch.float32, device=anchors.device), classes)
        class_targets.append(c)
        box_targets.append(b)
    class_t = torch.stack(class_targets)
    box_t = torch.stack(box_targets)
    positive = class_t >= 0
    normaliser = positive.sum().float() + 1.0
    one_hot = F.one_hot(class_t.clamp(min=0), num_classes).to(logits.dtype) * positive[..., None]
    class_loss = focal_loss(logits, one_hot).sum() / normaliser
    box_loss = F.huber_loss(regress[positive], box_t[positive], reduction="sum", delta=DELTA) / (4 * normaliser)
    return {"loss": class_loss + BOX_WEIGHT * box_loss, "class_loss": class_loss, "box_loss": box_loss,
            "num_positives": positive.sum()}
