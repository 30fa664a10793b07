"""COCO box mAP by pycocotools' COCOeval, in memory (no temp files, its prints silenced).

:func:`coco_map` scores detections ``{image_id, category_id, bbox: [x, y, w, h] px, score}``
against a :class:`detectors.data.CocoSet` (or an instances JSON path) and returns COCO's numbers in
[0, 1]: AP (IoU 0.50:0.95), AP50, AP75, AP_small/medium/large (area < 32², < 96², ≥ 96² px²), AR1,
AR10, AR100 and ``per_class`` AP (IoU 0.50:0.95, all areas, 100 detections per image).

COCOeval answers -1 where a number is undefined: no ground-truth box in that area range or class
(e.g. AP_large on a set without large objects). Those are reported as 0.0 and listed by name in
``undefined``, so every value is a float. A set of no detections scores 0.0 wherever ground truth
exists (COCOeval itself cannot load an empty result list; it is scored as an empty result set here).
Detections naming an image or a category absent from the ground truth are refused (InputError).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from search_spaces import InputError
from search_spaces.atomic import write_text_atomic

from .data.coco import CocoSet, read_coco

STATS = ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large", "AR1", "AR10", "AR100", "AR_small",
         "AR_medium", "AR_large")  # the order of COCOeval.stats


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def check_detections(detections: Iterable[Mapping[str, Any]],
                     ground_truth: CocoSet | None = None) -> list[dict[str, Any]]:
    """Detections as plain COCO result dicts, each checked (InputError if bad), and against `ground_truth`'s
    images and categories when given."""
    images = None if ground_truth is None else {image.id for image in ground_truth.images}
    categories = None if ground_truth is None else set(ground_truth.category_ids)
    checked = []
    for index, det in enumerate(detections):
        if not isinstance(det, Mapping):
            raise InputError(f"detection {index} is not an object with image_id, category_id, bbox, score")
        image_id, category_id, bbox, score = (det.get(key) for key in ("image_id", "category_id", "bbox", "score"))
        for key, value in (("image_id", image_id), ("category_id", category_id)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise InputError(f"detection {index} needs a whole-number {key}, got {value!r}")
        if images is not None and image_id not in images:
            raise InputError(f"detection {index} names image {image_id!r}, which is not in the ground truth")
        if categories is not None and category_id not in categories:
            known = ", ".join(map(str, sorted(categories)))
            raise InputError(f"detection {index} has category_id {category_id!r}, which is not among the ground "
                             f"truth's categories ({known})")
        if not isinstance(bbox, Sequence) or isinstance(bbox, str) or len(bbox) != 4 or not all(map(_number, bbox)) \
                or bbox[2] < 0 or bbox[3] < 0:
            raise InputError(f"detection {index} needs bbox [x, y, w, h] (finite pixels, w and h >= 0), got {bbox!r}")
        if not _number(score):
            raise InputError(f"detection {index} needs a finite score, got {score!r}")
        checked.append({"image_id": int(image_id), "category_id": int(category_id),
                        "bbox": [float(v) for v in bbox], "score": float(score)})
    return checked


def to_coco_detections(outputs: Sequence[Mapping[str, Any]], image_ids: Sequence[int],
                       category_ids: Sequence[int], scale: float | Sequence[float] = 1.0) -> list[dict[str, Any]]:
    """COCO result dicts from :func:`detectors.postprocess.postprocess` outputs (per image ``boxes``
    x1 y1 x2 y2 px, ``scores``, ``classes`` 0-based); class c becomes ``category_ids[c]``; boxes are
    multiplied by `scale` (per image or one for all) to get back to the original image's pixels."""
    if len(outputs) != len(image_ids):
        raise InputError(f"{len(outputs)} outputs for {len(image_ids)} image ids")
    scales = [float(scale)] * len(outputs) if isinstance(scale, numbers.Real) else [float(s) for s in scale]
    results = []
    for output, image_id, factor in zip(outputs, image_ids, scales, strict=True):
        boxes, scores, classes = (_as_list(output[key]) for key in ("boxes", "scores", "classes"))
        for (x1, y1, x2, y2), score, cls in zip(boxes, scores, classes, strict=True):
            results.append({"image_id": int(image_id), "category_id": int(category_ids[int(cls)]),
                            "bbox": [x1 * factor, y1 * factor, (x2 - x1) * factor, (y2 - y1) * factor],
                            "score": float(score)})
    return results


def _as_list(values: Any) -> list:
    if hasattr(values, "detach"):  # (a torch tensor, without importing torch here)
        values = values.detach().cpu()
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _ground_truth(ground_truth: CocoSet | str | os.PathLike) -> CocoSet:
    if isinstance(ground_truth, CocoSet):
        return ground_truth
    if isinstance(ground_truth, str | os.PathLike):
        return read_coco(ground_truth)
    raise InputError(f"ground truth must be a CocoSet or an instances JSON path, got {type(ground_truth).__name__}")


def coco_map(ground_truth: CocoSet | str | os.PathLike, detections: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """COCO box metrics of `detections` on `ground_truth` (values in [0, 1]; see the module docstring)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    truth = _ground_truth(ground_truth)
    results = check_detections(detections, truth)
    if not any(box.iscrowd == 0 for box in truth.boxes):
        raise InputError(f"{truth.source} has no (non-crowd) boxes to score against")
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = truth.to_coco()
        gt.createIndex()
        if results:
            dt = gt.loadRes(results)
        else:  # (loadRes fails on an empty list: an empty result set scores 0 where ground truth exists)
            dt = COCO()
            dt.dataset = {"images": list(gt.dataset["images"]), "categories": list(gt.dataset["categories"]),
                          "annotations": []}
            dt.createIndex()
        evaluator = COCOeval(gt, dt, iouType="bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    metrics: dict[str, Any] = {}
    undefined = []
    for name, value in zip(STATS, evaluator.stats, strict=True):
        metrics[name] = max(float(value), 0.0)
        if value < 0:
            undefined.append(name)
    precision = evaluator.eval["precision"]  # [IoU thresholds, recall points, classes, area ranges, max dets]
    per_class = {}
    for k, category_id in enumerate(evaluator.params.catIds):
        values = precision[:, :, k, 0, -1]
        defined = values[values > -1]
        name = truth.category(category_id).name
        per_class[name] = float(defined.mean()) if defined.size else 0.0
        if not defined.size:
            undefined.append(f"per_class.{name}")
    metrics["per_class"] = per_class
    metrics["undefined"] = undefined
    metrics["images"], metrics["detections"] = len(truth.images), len(results)
    return metrics


def write_coco_results(path: str | os.PathLike, detections: Iterable[Mapping[str, Any]],
                       ground_truth: CocoSet | str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """Write detections as a COCO results JSON (a list of {image_id, category_id, bbox, score}), atomically;
    checked against `ground_truth` when given. Returns what was written."""
    results = check_detections(detections, None if ground_truth is None else _ground_truth(ground_truth))
    lines = ",\n".join(json.dumps(det, separators=(",", ":")) for det in results)
    write_text_atomic(path, f"[\n{lines}\n]\n" if results else "[]\n")
    return results
