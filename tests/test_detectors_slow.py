"""Slow detector checks: overfitting synthetic rectangles, and D0–D7x params/MACs vs the paper."""

import pytest
import torch
from detectors_synthetic import rectangles, tiny_detector

from detectors import RELEASED, detector_cost

# REFERENCE.md (EfficientDet table): params, MACs
PAPER = {"d0": (3.9e6, 2.54e9), "d1": (6.6e6, 6.10e9), "d2": (8.1e6, 11.0e9), "d3": (12.0e6, 24.9e9),
         "d4": (20.7e6, 55.2e9), "d5": (33.7e6, 130e9), "d6": (51.9e6, 226e9), "d7": (51.9e6, 325e9),
         "d7x": (77.0e6, 410e9)}


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
