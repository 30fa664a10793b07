"""Proxy evaluator: trains on real images, returns held-out accuracy; deterministic; bad input."""

from __future__ import annotations

import pytest

from nas.evaluators import get_evaluator
from search_spaces import InputError, load_arch

TINY = {"dataset": "digits", "resolution": 16, "subset": 200, "epochs": 1, "batch": 50, "val_size": 100,
        "threads": 1, "seed": 0}


def test_tiny_proxy_returns_accuracy_and_is_deterministic() -> None:
    evaluate = get_evaluator("proxy")
    arch = load_arch("mnasnet-a1")
    first = evaluate(arch, TINY)
    again = evaluate(arch, TINY)
    assert first["evaluator"] == "proxy"
    assert 0.0 <= first["metric"] <= 1.0 and first["metric"] == first["accuracy"]
    assert first["num_classes"] == 10 and first["steps"] == 4
    assert "digits 16px, 200 train imgs, 1 epoch" in first["proxy"]
    assert first["train_loss"] > 0 and first["seconds"] > 0
    assert first["metric"] == again["metric"] and first["train_loss"] == again["train_loss"]


@pytest.mark.slow
def test_default_proxy_is_clearly_above_chance() -> None:
    result = get_evaluator("proxy")(load_arch("efficientnet-b0"), {})
    assert result["metric"] > 0.5, result  # chance is 0.1 on 10 digit classes


@pytest.mark.parametrize("bad, match", [
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"epochs": 0}, "epochs"),
    ({"subset": -5}, "subset"),
    ({"subset": 1}, "at least 2 training images"),
    ({"lazy": "yes"}, "lazy"),
    ({"dataset": "/no/such/data"}, "not found"),
])
def test_bad_config(bad: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        get_evaluator("proxy")(load_arch("mnasnet-a1"), {**TINY, **bad})


def test_proxy_trains_on_a_lazily_decoded_image_folder(tmp_path) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for label, name in enumerate(("dark", "light")):
        (tmp_path / name).mkdir()
        for i in range(12):
            pixels = np.clip(rng.normal(60 + 120 * label, 20, (10, 10, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    result = get_evaluator("proxy")(load_arch("mnasnet-a1"), {**TINY, "dataset": str(tmp_path), "lazy": True,
                                                              "subset": None, "batch": 8})
    assert 0.0 <= result["metric"] <= 1.0 and result["num_classes"] == 2
