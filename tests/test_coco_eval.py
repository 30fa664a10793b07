"""COCO mAP by pycocotools (detectors.coco_eval): perfect detections score 1, a shift loses exactly what
its IoU says, no detections score 0, and detections outside the ground truth are refused."""

from __future__ import annotations

import json
import tempfile

import pytest

from detectors.coco_eval import coco_map, to_coco_detections, write_coco_results
from detectors.data import coco_set
from search_spaces import InputError

# (image_id, category_id, x, y, w, h): small (20² px²), medium (40²) and large (120²) boxes over 3 classes
BOXES = [(1, 1, 10, 10, 20, 20), (1, 2, 60, 60, 40, 40), (2, 3, 5, 5, 120, 120), (3, 1, 100, 20, 40, 40),
         (3, 2, 20, 100, 20, 20), (4, 3, 30, 30, 100, 110)]


def truth_dict() -> dict:
    return {"images": [{"id": i, "file_name": f"{i:06d}.png", "width": 160, "height": 160} for i in range(1, 5)],
            "annotations": [{"id": n, "image_id": i, "category_id": c, "bbox": [x, y, w, h], "area": w * h,
                             "iscrowd": 0} for n, (i, c, x, y, w, h) in enumerate(BOXES, 1)],
            "categories": [{"id": c, "name": name} for c, name in ((1, "cat"), (2, "dog"), (3, "bird"))]}


@pytest.fixture
def truth():
    return coco_set(truth_dict(), "test ground truth")


def as_detections(shift=lambda w: 0.0) -> list[dict]:
    return [{"image_id": i, "category_id": c, "bbox": [x + shift(w), y, w, h], "score": 0.9}
            for i, c, x, y, w, h in BOXES]


def test_ground_truth_fed_back_scores_one(truth, capsys):
    metrics = coco_map(truth, as_detections())
    for key in ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large", "AR100"):
        assert metrics[key] == pytest.approx(1.0), key
    assert metrics["per_class"] == pytest.approx({"cat": 1.0, "dog": 1.0, "bird": 1.0})
    assert metrics["undefined"] == [] and metrics["detections"] == len(BOXES) and metrics["images"] == 4
    assert capsys.readouterr().out == ""  # COCOeval's prints are silenced


def iou_of_shift(w: float, d: float) -> float:
    """IoU of a w-wide box and the same box moved d px sideways: (w - d) / (w + d)."""
    return (w - d) / (w + d)


def test_shifted_boxes_lose_what_their_iou_says(truth):
    """Each box moved sideways so that IoU = 0.62 (d = w·(1 − r)/(1 + r)): it matches at the IoU thresholds
    0.50, 0.55, 0.60 and not from 0.65 on, so AP50 = 1, AP75 = 0 and AP (mean over 10 thresholds) = 0.3."""
    r = 0.62
    shift = lambda w: w * (1 - r) / (1 + r)  # noqa: E731
    assert iou_of_shift(40, shift(40)) == pytest.approx(r)
    import torch

    from detectors.boxes import box_iou

    box = torch.tensor([[60.0, 60.0, 100.0, 100.0]])
    assert box_iou(box, box + torch.tensor([shift(40), 0, shift(40), 0]))[0, 0].item() == pytest.approx(r)
    metrics = coco_map(truth, as_detections(shift))
    assert metrics["AP50"] == pytest.approx(1.0)
    assert metrics["AP75"] == pytest.approx(0.0)
    assert metrics["AP"] == pytest.approx(0.3)
    assert all(value == pytest.approx(0.3) for value in metrics["per_class"].values())


def test_no_detections_score_zero(truth):
    metrics = coco_map(truth, [])
    assert all(metrics[key] == 0.0 for key in ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large"))
    assert metrics["per_class"] == {"cat": 0.0, "dog": 0.0, "bird": 0.0}
    assert metrics["undefined"] == [] and metrics["detections"] == 0


def test_undefined_numbers_are_zero_and_listed():
    """COCOeval's -1 (no ground truth in an area range or class) becomes 0.0, named in `undefined`."""
    data = truth_dict()
    data["annotations"] = [a for a in data["annotations"] if a["area"] < 96 ** 2 and a["category_id"] != 3]
    metrics = coco_map(coco_set(data), as_detections())
    assert metrics["AP_large"] == 0.0 and "AP_large" in metrics["undefined"]
    assert metrics["per_class"]["bird"] == 0.0 and "per_class.bird" in metrics["undefined"]
    assert metrics["AP_small"] == pytest.approx(1.0) and metrics["AP_medium"] == pytest.approx(1.0)


def test_a_category_absent_from_the_ground_truth_is_refused(truth):
    detections = as_detections() + [{"image_id": 1, "category_id": 7, "bbox": [0, 0, 5, 5], "score": 0.5}]
    with pytest.raises(InputError, match="category_id 7, which is not among the ground truth's categories"):
        coco_map(truth, detections)


@pytest.mark.parametrize(("detection", "message"), [
    ({"image_id": 9, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}, "names image 9"),
    ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 5], "score": 0.5}, "needs bbox"),
    ({"image_id": 1, "category_id": 1, "bbox": [0, 0, -5, 5], "score": 0.5}, "needs bbox"),
    ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "score": float("nan")}, "finite score"),
    ({"image_id": True, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}, "whole-number image_id"),
    ("box", "not an object"),
])
def test_bad_detections_are_refused_in_one_line(truth, detection, message):
    with pytest.raises(InputError, match=message) as error:
        coco_map(truth, [detection])
    assert "\n" not in str(error.value)


def test_ground_truth_from_a_path_and_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "instances_val.json"
    path.write_text(json.dumps(truth_dict()))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.chdir(scratch)
    assert coco_map(path, as_detections())["AP"] == pytest.approx(1.0)
    assert list(scratch.iterdir()) == []


def test_results_json_round_trip(tmp_path, truth):
    path = tmp_path / "results.json"
    written = write_coco_results(path, as_detections(), truth)
    assert json.loads(path.read_text()) == written and len(written) == len(BOXES)
    assert coco_map(truth, json.loads(path.read_text()))["AP"] == pytest.approx(1.0)
    write_coco_results(path, [])
    assert json.loads(path.read_text()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]
    with pytest.raises(InputError, match="not among the ground truth's categories"):
        write_coco_results(tmp_path / "bad.json", [{"image_id": 1, "category_id": 4, "bbox": [0, 0, 1, 1],
                                                     "score": 1.0}], truth)
    assert not (tmp_path / "bad.json").exists()


def test_postprocess_outputs_become_coco_detections(truth):
    import torch

    outputs = [{"boxes": torch.tensor([[10.0, 10.0, 30.0, 30.0], [60.0, 60.0, 100.0, 100.0]]),
                "scores": torch.tensor([0.9, 0.8]), "classes": torch.tensor([0, 1])}]
    detections = to_coco_detections(outputs, [1], truth.category_ids)
    assert detections == [{"image_id": 1, "category_id": 1, "bbox": [10.0, 10.0, 20.0, 20.0],
                           "score": pytest.approx(0.9)},
                          {"image_id": 1, "category_id": 2, "bbox": [60.0, 60.0, 40.0, 40.0],
                           "score": pytest.approx(0.8)}]
    assert to_coco_detections(outputs, [1], truth.category_ids, scale=2.0)[0]["bbox"] == [20.0, 20.0, 40.0, 40.0]
