"""Data loaders: bundled sets, ImageFolder and CIFAR-10 binary readers, numpy-only unpickling."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from nas.data import load_dataset, safe_load, safe_loads
from search_spaces import InputError


@pytest.mark.parametrize("name, classes", [("digits", 10), ("mnist", 10)])
def test_bundled_shapes_classes_and_disjoint_split(name: str, classes: int) -> None:
    data = load_dataset(name, resolution=16, subset=200, seed=1)
    train_x, train_y, val_x, val_y = data
    assert train_x.shape == (200, 3, 16, 16) and train_x.dtype == torch.float32
    assert val_x.shape[1:] == (3, 16, 16) and len(val_x) == len(val_y) > 0
    assert data.num_classes == classes and set(train_y.tolist()) == set(range(classes))
    assert set(val_y.tolist()) == set(range(classes))
    assert not set(data.train_index.tolist()) & set(data.val_index.tolist())
    assert abs(float(train_x.mean())) < 1e-3 and abs(float(train_x.std()) - 1.0) < 0.05  # normalised
    # grayscale replicated to 3 channels
    assert torch.equal(train_x[:, 0] * data.std[0] + data.mean[0], train_x[:, 1] * data.std[1] + data.mean[1])


def test_split_is_seeded_and_val_independent_of_subset() -> None:
    a = load_dataset("digits", resolution=8, subset=100, seed=3)
    b = load_dataset("digits", resolution=8, subset=100, seed=3)
    c = load_dataset("digits", resolution=8, subset=300, seed=3)
    assert np.array_equal(a.train_index, b.train_index) and torch.equal(a.train_x, b.train_x)
    assert np.array_equal(a.val_index, c.val_index)
    assert not np.array_equal(a.train_index, load_dataset("digits", resolution=8, subset=100, seed=4).train_index)


def _write_folder(root, classes=("cat", "dog", "eel"), per_class=6, size=(20, 14)) -> None:
    rng = np.random.default_rng(0)
    for index, name in enumerate(classes):
        os.makedirs(root / name)
        for i in range(per_class):
            mode = "L" if i % 2 else "RGB"
            shape = size[::-1] if mode == "L" else (*size[::-1], 3)
            pixels = np.clip(rng.normal(80 * index + 20, 10, shape), 0, 255).astype(np.uint8)
            Image.fromarray(pixels, mode=mode).save(root / name / f"{i}.{'png' if i % 3 else 'jpg'}")


def test_image_folder(tmp_path) -> None:
    _write_folder(tmp_path)
    data = load_dataset(tmp_path, resolution=12, seed=0, normalize=False)
    assert data.classes == ("cat", "dog", "eel")
    assert data.train_x.shape[1:] == (3, 12, 12) and len(data.train_y) + len(data.val_y) == 18
    assert set(data.val_y.tolist()) == {0, 1, 2}
    # class brightness survives decoding (class 2 is brightest)
    means = [float(data.train_x[data.train_y == c].mean()) for c in range(3)]
    assert means[0] < means[1] < means[2]


def _write_cifar(path, labels, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (len(labels), 3, 32, 32), dtype=np.uint8)
    records = np.concatenate([np.asarray(labels, dtype=np.uint8)[:, None], pixels.reshape(len(labels), -1)], axis=1)
    records.tofile(path)
    return pixels


def test_cifar_binary(tmp_path) -> None:
    pixels = _write_cifar(tmp_path / "data_batch_1.bin", [i % 10 for i in range(30)])
    _write_cifar(tmp_path / "data_batch_2.bin", [i % 10 for i in range(20)], seed=1)
    data = load_dataset(tmp_path, resolution=32, normalize=False, val_fraction=0.2)
    assert data.num_classes == 10 and data.classes[0] == "airplane"
    assert len(data.train_y) + len(data.val_y) == 50
    first = int(np.flatnonzero(data.train_index == data.train_index.min())[0])
    source_index = int(data.train_index[first])
    if source_index < 30:  # pixels decoded as RGB planes, HWC order restored
        expected = torch.from_numpy(pixels[source_index]).float() / 255
        assert torch.allclose(data.train_x[first], expected)
    single = load_dataset(tmp_path / "data_batch_1.bin", resolution=16)
    assert single.train_x.shape[1:] == (3, 16, 16)


def test_cifar_bad_file(tmp_path) -> None:
    (tmp_path / "x.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(InputError, match="not a CIFAR-10"):
        load_dataset(tmp_path / "x.bin", resolution=16)


def test_bad_inputs(tmp_path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_dataset(tmp_path / "missing", resolution=16)
    with pytest.raises(InputError, match="not found"):
        load_dataset("imagenet-please", resolution=16)
    _write_folder(tmp_path / "one", classes=("only",))
    with pytest.raises(InputError, match="1 class"):
        load_dataset(tmp_path / "one", resolution=16)
    os.makedirs(tmp_path / "empty" / "a")
    with pytest.raises(InputError, match="no images"):
        load_dataset(tmp_path / "empty", resolution=16)
    with pytest.raises(InputError, match="resolution"):
        load_dataset("digits", resolution=0)
    with pytest.raises(InputError, match="subset"):
        load_dataset("digits", resolution=8, subset=0)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_restricted_unpickler_admits_numpy_and_refuses_others(tmp_path) -> None:
    arrays = {"x": np.arange(12, dtype=np.uint8).reshape(3, 2, 2), "y": np.array([0, 1, 1])}
    loaded = safe_loads(pickle.dumps(arrays))
    assert np.array_equal(loaded["x"], arrays["x"]) and np.array_equal(loaded["y"], arrays["y"])
    with pytest.raises(InputError, match="refusing to unpickle"):
        safe_loads(pickle.dumps(_Evil()))
    with pytest.raises(InputError, match="refusing"):
        safe_loads(pickle.dumps({"x": np.zeros(2), "f": print}))
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps([_Evil()]))
    with pytest.raises(InputError, match="refusing"):
        safe_load(path)
    with pytest.raises(InputError, match="refusing"):
        load_dataset(path, resolution=8)


def test_array_file_pickle_and_npz(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 64), dtype=np.uint8)  # flat 8x8 rows
    y = np.repeat([3, 7], 20)
    (tmp_path / "set.pkl").write_bytes(pickle.dumps((x, y)))
    np.savez(tmp_path / "set.npz", images=x.reshape(40, 8, 8), labels=y)
    for name in ("set.pkl", "set.npz"):
        data = load_dataset(tmp_path / name, resolution=8)
        assert data.num_classes == 2 and set(data.train_y.tolist()) == {0, 1}
        assert data.train_x.shape[1:] == (3, 8, 8)


def test_lazy_image_folder_decodes_the_same_batches(tmp_path) -> None:
    _write_folder(tmp_path)
    eager = load_dataset(tmp_path, resolution=12, seed=0)
    lazy = load_dataset(tmp_path, resolution=12, seed=0, lazy=True)
    assert lazy.lazy and lazy.train_x is None and np.array_equal(lazy.train_index, eager.train_index)
    positions = torch.arange(len(eager.train_y))
    assert torch.allclose(lazy.train_batch(positions), eager.train_batch(positions), atol=1e-5)
    assert torch.allclose(lazy.val_batch(torch.tensor([0])), eager.val_x[:1], atol=1e-5)


def test_cifar_too_large_to_hold_resized_streams_the_same_images(tmp_path, monkeypatch) -> None:
    """CIFAR (a user's array set) whose resized float images would pass LAZY_BYTES goes lazy: batches
    decoded by the DataLoader path (nas.data.stream), the same as in-memory resizing gives them."""
    from nas.data import loader

    _write_cifar(tmp_path / "data_batch_1.bin", [i % 10 for i in range(60)])
    eager = load_dataset(tmp_path, resolution=48, normalize=False)
    monkeypatch.setattr(loader, "LAZY_BYTES", 60 * 12 * 48 * 48 // 2)
    lazy = load_dataset(tmp_path, resolution=48, normalize=False)
    assert lazy.lazy and not eager.lazy and np.array_equal(lazy.train_index, eager.train_index)
    positions = [torch.tensor([3, 0, 7]), torch.arange(len(eager.train_y))]
    for images, wanted in zip(lazy.stream("train", 1)(positions), positions, strict=True):
        assert torch.allclose(images, eager.train_x[wanted], atol=1e-6)
    assert not load_dataset("digits", resolution=48).lazy  # bundled sets stay in memory whatever their size
