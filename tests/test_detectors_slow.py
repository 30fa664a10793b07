"""Slow detector checks: overfitting synthetic rectangles, and D0–D7x params/MACs vs the paper."""

import json
from pathlib import Path

import pytest
import torch
from detectors_synthetic import rectangles, tiny_detector

from detectors import RELEASED, detector_cost

# docs/PAPER_FACTS.md, "EfficientDet D0–D7x": params, MACs
_TABLE = json.loads((Path(__file__).resolve().parents[1] / "results/reference/efficientdet.json").read_text())
PAPER = {name: (row["params"], row["macs"]) for name, row in _TABLE["models"].items()}  # the paper's table


def recalibrate_batch_norm(model, images, passes: int = 3) -> None:
    """Replace BN running stats by the cumulative mean over a few train-mode passes (no grad)."""
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(passes):
            model(images)
    model.eval()


@pytest.mark.slow
def test_overfits_synthetic_rectangles():
    torch.manual_seed(0)
    model = tiny_detector()
    images, targets = rectangles(4, 128, seed=1)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = model.loss(images, targets)["loss"]
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 10, losses
    recalibrate_batch_norm(model, images)
    detections = model.detect(images, score_threshold=0.2)
    found = 0
    for (boxes, classes), result in zip(targets, detections, strict=True):
        assert torch.all(result["scores"][:-1] >= result["scores"][1:])
        assert result["boxes"].min() >= 0 and result["boxes"].max() <= 128
        for box, label in zip(boxes, classes, strict=True):
            same = result["classes"] == label
            if same.any():
                from detectors.boxes import box_iou
                found += int(box_iou(box[None], result["boxes"][same]).max() >= 0.5)
    assert found >= 6, f"{found} of 8 boxes found"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RELEASED))
def test_released_cost_matches_paper(name):
    cost = detector_cost(name)
    params, macs = PAPER[name]
    assert abs(cost.params / params - 1) < 0.03
    assert abs(cost.macs / macs - 1) < 0.06
