"""The DataLoader data path (nas.data.stream): the same images and batches as the one-thread loop,
with or without worker processes; a corrupt JPEG's one-line error; bundled sets untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from nas.data import load_dataset
from nas.evaluators import get_evaluator
from nas.evaluators.proxy import train
from search_spaces import InputError, load_arch

TINY = {"resolution": 16, "subset": None, "epochs": 2, "batch": 8, "val_size": 100, "threads": 1, "seed": 3,
        "lazy": True}


def _jpeg_folder(root, classes: int = 3, per_class: int = 8, size=(50, 37)) -> None:
    rng = np.random.default_rng(0)
    for label in range(classes):
        (root / f"c{label}").mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(rng.normal(40 + 80 * label, 40, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / f"c{label}" / f"{i}.jpg", quality=90)


@pytest.mark.parametrize("workers", [0, 2])
def test_stream_decodes_the_batches_the_old_fetch_decodes(tmp_path, workers: int) -> None:
    _jpeg_folder(tmp_path)
    data = load_dataset(tmp_path, resolution=16, seed=0, lazy=True)
    batches = [torch.tensor([5, 0, 3]), torch.tensor([1, 2]), torch.arange(len(data.train_y))]
    for split, fetch in (("train", data.train_batch), ("val", data.val_batch)):
        stream = data.stream(split, workers)
        count = len(data.train_y if split == "train" else data.val_y)
        wanted = [b[b < count] for b in batches]
        for _ in range(2):  # the workers persist across passes
            got = list(stream(wanted))
            assert len(got) == len(wanted)
            for positions, images in zip(wanted, got, strict=True):
                assert torch.equal(images, fetch(positions))
        walk = stream.sequential(count, 4)
        for start in (0, 4, 0):  # a walk, and a restarted one
            positions = torch.arange(start, min(start + 4, count))
            assert torch.equal(walk(positions), fetch(positions))
        assert torch.equal(walk(torch.tensor([1, 0])), fetch(torch.tensor([1, 0])))  # not a walk's batch


def test_training_loop_draws_the_same_batches_through_a_stream(tmp_path) -> None:
    _jpeg_folder(tmp_path)
    data = load_dataset(tmp_path, resolution=16, seed=0, lazy=True)
    seen: dict[str, list] = {"fetch": [], "stream": []}

    def model_for(key: str) -> torch.nn.Module:
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 3))
        net.register_forward_pre_hook(lambda _, args: seen[key].append(args[0].clone()))
        return net

    options = {"batch": 5, "seed": 1, "optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0,
               "epochs": 2.5, "warmup": 0.0, "schedule": "cosine", "label_smoothing": 0.0, "clip_grad": 0.0}
    old, _ = train(model_for("fetch"), data.train_batch, data.train_y, options)
    stream = data.stream("train", 1)
    new, _ = train(model_for("stream"), data.train_batch, data.train_y, options, stream=stream)
    assert old == new and len(seen["fetch"]) == len(seen["stream"]) == len(old)
    assert all(torch.equal(a, b) for a, b in zip(seen["fetch"], seen["stream"], strict=True))


def test_proxy_metric_does_not_depend_on_the_workers(tmp_path) -> None:
    _jpeg_folder(tmp_path)
    evaluate = get_evaluator("proxy")
    arch = load_arch("mnasnet-a1")
    results = [evaluate(arch, {**TINY, "dataset": str(tmp_path), "workers": w}) for w in (0, 2, "auto")]
    assert results[0]["metric"] == results[1]["metric"] == results[2]["metric"]
    assert results[0]["epoch_losses"] == results[1]["epoch_losses"] == results[2]["epoch_losses"]


def test_eager_image_folder_decoded_by_workers_is_the_same(tmp_path) -> None:
    _jpeg_folder(tmp_path, per_class=30)
    one = load_dataset(tmp_path, resolution=16, seed=0)
    two = load_dataset(tmp_path, resolution=16, seed=0, workers=2)
    assert torch.equal(one.train_x, two.train_x) and torch.equal(one.val_x, two.val_x)


@pytest.mark.parametrize("workers", [0, 2])
def test_a_corrupt_jpeg_gives_the_one_line_error(tmp_path, workers: int) -> None:
    _jpeg_folder(tmp_path)
    (tmp_path / "c1" / "3.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    with pytest.raises(InputError, match=r"^cannot decode image .*3\.jpg: ") as caught:
        get_evaluator("proxy")(load_arch("mnasnet-a1"), {**TINY, "dataset": str(tmp_path), "workers": workers})
    assert "\n" not in str(caught.value)


def test_workers_option_is_checked() -> None:
    with pytest.raises(InputError, match="workers"):
        get_evaluator("proxy")(load_arch("mnasnet-a1"), {"dataset": "digits", "workers": "many"})


def test_bundled_sets_stay_in_memory() -> None:
    data = load_dataset("digits", resolution=224, subset=100)  # well under LAZY_BYTES, and bundled anyway
    assert not data.lazy and data.train_x is not None


def test_auto_workers_are_the_trial_cpus_minus_one(tmp_path, monkeypatch) -> None:
    """Under a runner, torch holds trial_threads(cpus_per_trial) threads when the evaluation starts."""
    from nas.data import loader
    from nas.threads import torch_threads

    _jpeg_folder(tmp_path)
    made: list[int] = []
    real = loader.Stream

    def spy(images, workers=0, pin_memory=False):
        made.append(workers)
        return real(images, workers, pin_memory)

    monkeypatch.setattr(loader, "Stream", spy)
    with torch_threads(3):
        get_evaluator("proxy")(load_arch("mnasnet-a1"), {**TINY, "epochs": 1, "dataset": str(tmp_path)})
    with torch_threads(1):
        get_evaluator("proxy")(load_arch("mnasnet-a1"), {**TINY, "epochs": 1, "dataset": str(tmp_path)})
    assert made == [2, 2, 0, 0]  # (train and held-out streams)
