"""Zero-cost evaluators: NASWOT and synflow are finite, deterministic, arch-dependent, registered."""

from __future__ import annotations

import math

import pytest
import torch

from nas.evaluators import get_evaluator
from nas.evaluators.zero_cost import naswot_score
from search_spaces import InputError, MnasNetSpace, load_arch

CONFIG = {"resolution": 16, "batch": 16, "dataset": "digits", "seed": 0, "threads": 1}


@pytest.mark.parametrize("score", ["naswot", "synflow"])
def test_scores_finite_deterministic_and_differ(score: str) -> None:
    evaluate = get_evaluator("zero-cost")
    space = MnasNetSpace()
    archs = [space.sample(s) for s in (0, 1)]
    first = evaluate(archs[0], {**CONFIG, "score": score})
    again = evaluate(archs[0], {**CONFIG, "score": score})
    other = evaluate(archs[1], {**CONFIG, "score": score})
    assert first["evaluator"] == "zero-cost" and first["score"] == score and first["proxy"]
    assert math.isfinite(first["metric"]) and first["metric"] > 0
    assert first["metric"] == again["metric"]
    assert first["metric"] != other["metric"]
    assert first["seconds"] >= 0


def test_named_registrations() -> None:
    arch = load_arch("mnasnet-a1")
    assert get_evaluator("naswot")(arch, CONFIG)["score"] == "naswot"
    assert get_evaluator("synflow")(arch, CONFIG)["score"] == "synflow"


def test_naswot_kernel_identical_inputs_is_singular() -> None:
    model = load_arch("mnasnet-a1").with_(num_classes=10).build()
    images = torch.randn(1, 3, 16, 16).repeat(4, 1, 1, 1)
    assert naswot_score(model, images) == 0.0  # identical codes → det K = 0 → worst score


def test_bad_config() -> None:
    arch = load_arch("mnasnet-a1")
    with pytest.raises(InputError, match="score"):
        get_evaluator("zero-cost")(arch, {"score": "snip"})
    with pytest.raises(InputError, match="resolution"):
        get_evaluator("zero-cost")(arch, {"resolution": "big"})
    with pytest.raises(InputError, match="not found"):
        get_evaluator("zero-cost")(arch, {"dataset": "/no/such/dir"})
