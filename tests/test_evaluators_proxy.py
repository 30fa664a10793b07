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


def test_proxy_model_options_change_the_model_as_documented() -> None:
    import math

    import torch

    from nas.evaluators.common import build_seeded
    from nas.evaluators.proxy_model import prepare_for_proxy, proxy_geometry

    arch = load_arch("efficientnet-b0")
    geometry, stem_stride = proxy_geometry(arch, 2)
    assert stem_stride == 1 and [b.stride for b in geometry.blocks][:3] == [1, 1, 2]  # stage 2 lost its stride
    assert proxy_geometry(arch, 0) == (arch, 2)
    model = build_seeded(geometry, 10, 0)
    prepare_for_proxy(model, "zero", True, stem_stride)
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        logits = model(x)
        final = model.forward_features(x)
    assert torch.count_nonzero(logits) == 0  # zero-init classifier: loss starts at ln C
    assert math.isclose(float(torch.nn.functional.cross_entropy(logits, torch.tensor([1, 2]))), math.log(10),
                        rel_tol=1e-6)
    assert final.shape[-1] == 4  # two of B0's five stride-2 steps removed: 32 px ends at 4x4, not 1x1
    residual = [layer for layer in model.blocks if layer.residual and layer.shortcut is None]
    assert residual
    with torch.no_grad():
        probe = torch.randn(2, residual[0].dw.conv.in_channels if residual[0].expand is None
                            else residual[0].expand.conv.in_channels, 8, 8)
        assert torch.allclose(residual[0](probe), probe)  # zero-init residual: the layer starts as its shortcut


def test_every_proxy_option_appears_in_the_description() -> None:
    from nas.evaluators.proxy import DEFAULTS, describe

    text = describe({**DEFAULTS, "warmup": 0.5, "label_smoothing": 0.1, "clip_grad": 2.0, "classifier_init": "zero",
                     "zero_init_residual": True, "drop_strides": 1, "drop_connect": 0.1, "epochs": 10,
                     "stop_after": 1, "score": "tse"}, 100, 50)
    for fragment in ("warm-up 0.5", "label smoothing 0.1", "grad clip 2", "zero-init classifier",
                     "zero-init residual BN", "first 1 stride-2 step at stride 1", "drop-connect 0.1",
                     "stopped after 1 of 10 epochs", "scored by exp(-mean training loss) (TSE)"):
        assert fragment in text, (fragment, text)


def test_stop_after_trains_a_prefix_of_the_longer_schedule() -> None:
    """stop_after = 1 of 3 epochs: the same first steps as the 3-epoch run (same warm-up and learning
    rates), then it stops; the trial's epoch count (a scheduler's max_t) is the prefix's."""
    from nas.evaluators import proxy

    evaluate = get_evaluator("proxy")
    arch = load_arch("mnasnet-a1")
    whole = evaluate(arch, {**TINY, "epochs": 3})
    prefix = evaluate(arch, {**TINY, "epochs": 3, "stop_after": 1})
    one_epoch = evaluate(arch, {**TINY, "epochs": 1})
    assert prefix["steps"] == 4 and whole["steps"] == 12
    assert prefix["epoch_losses"] == whole["epoch_losses"][:1]
    assert prefix["epoch_losses"] != one_epoch["epoch_losses"]  # a 1-epoch schedule anneals sooner
    assert proxy.epochs({"epochs": 3, "stop_after": 1}) == 1 and proxy.epochs({"epochs": 3, "stop_after": 5}) == 3
    assert "stopped after 1 of 3 epochs" in prefix["proxy"]


def test_tse_score_is_the_likelihood_of_the_mean_training_loss() -> None:
    import math

    result = get_evaluator("proxy")(load_arch("mnasnet-a1"), {**TINY, "epochs": 2, "score": "tse"})
    assert result["metric"] == pytest.approx(math.exp(-result["mean_train_loss"]))
    assert result["mean_train_loss"] == pytest.approx(sum(result["epoch_losses"]) / 2)
    assert result["metric"] != result["accuracy"] and 0.0 <= result["accuracy"] <= 1.0
    assert "(TSE)" in result["proxy"]


def test_unknown_option_is_refused() -> None:
    with pytest.raises(InputError, match="unknown evaluator option"):
        get_evaluator("proxy")(load_arch("mnasnet-a1"), {**TINY, "epoch": 2})


@pytest.mark.parametrize("bad, match", [
    ({"zero_init_residual": "yes"}, "zero_init_residual"),
    ({"classifier_init": "xavier"}, "classifier_init"),
    ({"drop_strides": 9}, "drop_strides"),
    ({"score": "loss"}, "score"),
    ({"stop_after": -1}, "stop_after"),
    ({"label_smoothing": 1.5}, "label_smoothing"),
])
def test_bad_model_options(bad: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        get_evaluator("proxy")(load_arch("mnasnet-a1"), {**TINY, **bad})


PLAIN_CNN = ["cn_r1_k3_s11_i32_o32", "cn_r1_k3_s22_i32_o64", "cn_r1_k3_s22_i64_o128"]


@pytest.mark.slow
def test_b0_local_proxy_replays_the_reference_runs_first_epoch() -> None:
    """b0-local's proxy is the reference run stopped after one epoch: with a reference row's seed its
    training loss is that row's first-epoch loss (results/reference-set/reference.jsonl), and it scores by TSE."""
    import math

    from nas.presets import get_preset
    from nas.reference import read_reference

    config = get_preset("b0-local")["evaluator_configs"]["proxy"]
    row = next(r for r in read_reference() if r.key == "efficientnet-b0" and r.seed == 0)
    result = get_evaluator("proxy")(load_arch("efficientnet-b0"), {**config, "seed": 0})
    assert result["mean_train_loss"] == pytest.approx(row.epoch_losses[0], rel=1e-4)
    assert result["metric"] == pytest.approx(math.exp(-result["mean_train_loss"]))
    assert result["mean_train_loss"] < math.log(10) and result["accuracy"] > 0.2  # learning: chance is 0.1


@pytest.mark.slow
def test_stem_at_stride_1_lets_the_named_networks_pass_the_plain_cnn() -> None:
    """At 32 px the space's networks reach 1x1 maps; with the stem at stride 1 they beat a plain CNN
    at the same budget (docs/PROXY.md §2: MNIST, 2,000 images x 2 epochs; over 20 s a trial)."""
    config = {"dataset": "mnist", "resolution": 32, "subset": 2000, "epochs": 2, "batch": 64, "lr": 0.006,
              "val_size": 1000, "classifier_init": "zero", "zero_init_residual": True, "drop_strides": 1, "threads": 1}
    evaluate = get_evaluator("proxy")
    plain = evaluate(load_arch(PLAIN_CNN), config)["accuracy"]
    for name in ("efficientnet-b0", "mnasnet-a1", "mobilenet-v2"):
        assert evaluate(load_arch(name), config)["accuracy"] >= plain, name
