"""Inference: decode the top-scoring anchors and run class-aware NMS, in plain torch.

Per image: sigmoid scores over K anchors × C classes, the best ``pre_nms`` pairs are decoded
(:func:`detectors.boxes.decode`), clipped to the image, thresholded, then greedy NMS per class
(IoU > ``iou_threshold`` suppresses; boxes of different classes never suppress each other),
keeping at most ``max_detections`` in descending score order (automl defaults: 5000, 0.5, 100).
"""

from __future__ import annotations

import torch

from .boxes import box_iou, decode
from .heads import flatten_outputs


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, classes: torch.Tensor, iou_threshold: float = 0.5,
                max_keep: int | None = None) -> torch.Tensor:
    """Indices kept by greedy per-class NMS, sorted by descending score."""
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    order = scores.argsort(descending=True)
    span = (boxes.max() - boxes.min()).clamp(min=1) + 1
    shifted = boxes[order] + (classes[order].to(boxes.dtype) * span)[:, None]   # classes never overlap
    alive = torch.ones(len(order), dtype=torch.bool, device=boxes.device)
    keep = []
    for i in range(len(order)):
        if not alive[i]:
            continue
        keep.append(i)
        if max_keep is not None and len(keep) >= max_keep:
            break
        if i + 1 < len(order):
            alive[i + 1:] &= box_iou(shifted[i:i + 1], shifted[i + 1:])[0] <= iou_threshold
    return order[torch.tensor(keep, dtype=torch.long, device=boxes.device)]


def postprocess(class_outputs: list[torch.Tensor], box_outputs: list[torch.Tensor], anchors: torch.Tensor,
                image_size: tuple[int, int], num_classes: int, score_threshold: float = 0.05,
                iou_threshold: float = 0.5, max_detections: int = 100, pre_nms: int = 5000) -> list[dict]:
    """Per image a dict of ``boxes`` (n × 4, x1 y1 x2 y2 pixels), ``scores`` (n, descending), ``classes`` (n)."""
    logits = flatten_outputs(class_outputs, num_classes)
    codes = flatten_outputs(box_outputs, 4)
    height, width = image_size
    results = []
    for image_logits, image_codes in zip(logits, codes, strict=True):
        scores = image_logits.sigmoid().flatten()
        top = scores.topk(min(pre_nms, scores.numel())).indices
        top = top[scores[top] > score_threshold]
        anchor_index, classes = top // num_classes, top % num_classes
        boxes = decode(image_codes[anchor_index].float(), anchors[anchor_index])
        boxes[:, 0::2] = boxes[:, 0::2].clamp(0, width)
        boxes[:, 1::2] = boxes[:, 1::2].clamp(0, height)
        keep = batched_nms(boxes, scores[top], classes, iou_threshold, max_detections)
        results.append({"boxes": boxes[keep], "scores": scores[top][keep], "classes": classes[keep]})
    return results
