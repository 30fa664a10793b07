"""One loader for every image source: split, subset, resize, normalise.

``load_dataset(name_or_path, resolution, subset, seed)`` returns an :class:`ImageData` whose
first four fields unpack as ``train_x, train_y, val_x, val_y``: float tensors [n, 3, R, R]
normalised per channel with the *training* split's mean and std, and int64 labels. The
validation split is held out from the source's labelled images before any subsetting (as the
MnasNet proxy held 50K ImageNet training images out), stratified by class, and never overlaps
the training split.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from search_spaces import InputError

from . import bundled
from .sources import ArraySource, FileSource, cifar_source, image_folder
from .stream import SplitImages, Stream, decode_all

BUNDLED = {"digits": bundled.digits, "mnist": bundled.mnist, "mnist-full": bundled.mnist_full,
           "mnist-cluttered": bundled.mnist_cluttered}


@dataclass(frozen=True)
class ImageData:
    """A train/validation split. Unpacks as (train_x, train_y, val_x, val_y)."""

    train_x: torch.Tensor | None  # None when lazy: decode batches with train_batch / val_batch
    train_y: torch.Tensor
    val_x: torch.Tensor | None
    val_y: torch.Tensor
    classes: tuple[str, ...]
    name: str
    resolution: int
    train_index: np.ndarray = field(repr=False)  # indices into the source (for provenance / tests)
    val_index: np.ndarray = field(repr=False)
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    source: ArraySource | FileSource | None = field(default=None, repr=False)  # set when lazy
    val_source: ArraySource | FileSource | None = field(default=None, repr=False)  # a given validation set

    @property
    def lazy(self) -> bool:
        return self.train_x is None

    def _source_of(self, split: str) -> ArraySource | FileSource | None:
        return self.val_source if split == "val" and self.val_source is not None else self.source

    def _decode(self, index: np.ndarray, positions: torch.Tensor, split: str = "train") -> torch.Tensor:
        x = self._source_of(split).images(index[np.asarray(positions, dtype=np.int64)], self.resolution)
        mean, std = torch.tensor(self.mean)[:, None, None], torch.tensor(self.std)[:, None, None]
        return (x - mean) / std

    def stream(self, split: str, workers: int = 0, pin_memory: bool = False) -> Stream:
        """A :class:`~nas.data.stream.Stream` decoding the "train" or "val" split's images (normalised, as
        train_batch / val_batch give them) in `workers` processes; for lazy data."""
        index = self.train_index if split == "train" else self.val_index
        return Stream(SplitImages(self._source_of(split), index, self.resolution, self.mean, self.std), workers,
                      pin_memory)

    def train_batch(self, positions: torch.Tensor) -> torch.Tensor:
        """Normalised training images at `positions` (0..len(train_y)-1), decoded now if lazy."""
        return self._decode(self.train_index, positions) if self.lazy else self.train_x[positions]

    def val_batch(self, positions: torch.Tensor) -> torch.Tensor:
        """Normalised validation images at `positions`, decoded now if lazy."""
        return self._decode(self.val_index, positions, "val") if self.lazy else self.val_x[positions]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __iter__(self):
        return iter((self.train_x, self.train_y, self.val_x, self.val_y))


def open_source(name_or_path: str | os.PathLike) -> ArraySource | FileSource:
    """Resolve a bundled name ('digits', 'mnist'), an ImageFolder directory, CIFAR-10 .bin batches
    (a file or a directory of data_batch_*.bin) or an array file (.npz/.pkl/.pkl.gz)."""
    text = os.fspath(name_or_path)
    if text.lower() in BUNDLED:
        return BUNDLED[text.lower()]()
    path = Path(text).expanduser()
    if not path.exists():
        known = ", ".join(BUNDLED)
        raise InputError(f"data set {text!r} not found: not a bundled name ({known}) nor an existing path")
    return _open_path(str(path.resolve()))


@functools.lru_cache(maxsize=4)
def _open_path(path: str) -> ArraySource | FileSource:
    target = Path(path)
    if target.is_dir():
        if any(target.glob("data_batch_*.bin")) or (any(target.glob("*.bin")) and not any(
                entry.is_dir() for entry in target.iterdir())):
            return cifar_source(target)
        return image_folder(target)
    if target.suffix.lower() == ".bin":
        return cifar_source(target)
    return bundled.array_file(target)


def _split(labels: np.ndarray, val_fraction: float, val_size: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified hold-out: about `val_fraction` of each class (capped at `val_size` in total)."""
    rng = np.random.default_rng([seed, 7919])
    total = len(labels)
    wanted = int(round(total * val_fraction))
    if val_size is not None:
        wanted = min(wanted, int(val_size))
    wanted = max(wanted, 1)
    val: list[np.ndarray] = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        take = int(round(len(members) * wanted / total))
        take = min(max(take, 1), len(members) - 1)
        val.append(members[:take])
    val_index = np.sort(np.concatenate(val))
    train_index = np.setdiff1d(np.arange(total), val_index)
    return train_index, val_index


def _subset(labels: np.ndarray, index: np.ndarray, size: int | None, seed: int) -> np.ndarray:
    """A class-balanced random subset of `index` with `size` elements (all when size is None)."""
    rng = np.random.default_rng([seed, 104729])
    index = rng.permutation(index)
    if size is None or size >= len(index):
        return index
    # round-robin over classes so small subsets still see every class
    by_class = [index[labels[index] == label] for label in np.unique(labels[index])]
    order = [members[i] for i in range(max(map(len, by_class))) for members in by_class if i < len(members)]
    return np.asarray(order[:size], dtype=np.int64)


LAZY_ABOVE = 20000  # ImageFolder sets with more training images than this are decoded per batch
LAZY_BYTES = 2 * 2**30  # a user's array set (CIFAR) whose resized float training images exceed this: per batch


def _given_validation(val_data: str | os.PathLike, classes: tuple[str, ...]) -> tuple[ArraySource | FileSource,
                                                                                       np.ndarray, np.ndarray]:
    """(source, its image indices, their labels as indices into the training `classes`) of a given
    validation set, matched to the training classes by name."""
    source = open_source(val_data)
    names = [source.classes[c] if c < len(source.classes) else str(c) for c in range(max(source.labels) + 1)]
    extra = sorted({names[c] for c in set(np.asarray(source.labels).tolist())} - set(classes))
    if extra:
        raise InputError(f"validation data {os.fspath(val_data)!r} has classes the training data lacks: "
                         f"{', '.join(map(repr, extra[:5]))}")
    position = {name: index for index, name in enumerate(classes)}
    labels = np.asarray([position[names[c]] for c in np.asarray(source.labels)], dtype=np.int64)
    return source, np.arange(len(labels), dtype=np.int64), labels


def load_dataset(name_or_path: str | os.PathLike, resolution: int = 32, subset: int | None = None, seed: int = 0,
                 val_fraction: float = 0.2, val_size: int | None = 2000, normalize: bool = True,
                 lazy: bool | None = None, workers: int = 0, val_data: str | os.PathLike | None = None) -> ImageData:
    """Load a labelled image set as normalised float tensors at `resolution` pixels.

    subset: number of training images (class-balanced random sample; None = all).
    val_fraction / val_size: held-out validation share of the source, capped at val_size images.
    seed: fixes the split and the subset.
    lazy: keep only indices and decode batches on demand (ImageNet-sized folders); None = automatic
    (ImageFolder sources with more than LAZY_ABOVE training images, and CIFAR / array files, not the
    bundled sets, whose resized training images would take more than LAZY_BYTES as floats). Mean/std
    then come from a sample of 512 training images; batches are decoded by ``ImageData.stream``.
    workers: processes decoding an ImageFolder held in memory (same bytes as 0, the calling thread).
    val_data: a validation set of its own (a bundled name, ImageFolder, CIFAR or array file), used whole
    and matched to the training classes by name; then no training image is held out (val_fraction and
    val_size do not apply).
    """
    if not isinstance(resolution, int) or not 4 <= resolution <= 4096:
        raise InputError(f"resolution must be a whole number of pixels in 4..4096, got {resolution!r}")
    if subset is not None and (not isinstance(subset, int) or subset < 1):
        raise InputError(f"subset must be a positive number of images, got {subset!r}")
    if not 0.0 < val_fraction < 1.0:
        raise InputError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    source = open_source(name_or_path)
    labels = np.asarray(source.labels, dtype=np.int64)
    present, labels = np.unique(labels, return_inverse=True)
    if len(present) < 2:
        raise InputError(f"data set {source.name!r} has {len(present)} class; at least 2 are needed")
    if len(labels) < 2 * len(present):
        raise InputError(f"data set {source.name!r} has {len(labels)} images for {len(present)} classes; "
                         "need at least 2 per class for a held-out split")
    classes = tuple(source.classes[c] if c < len(source.classes) else str(c) for c in present)
    val_source = None
    if val_data is None:
        train_pool, val_index = _split(labels, val_fraction, val_size, seed)
        val_labels = labels[val_index]
    else:
        val_source, val_index, val_labels = _given_validation(val_data, classes)
        train_pool = np.arange(len(labels), dtype=np.int64)
    train_index = _subset(labels, train_pool, subset, seed)
    if lazy is None:
        lazy = isinstance(source, FileSource) and len(train_index) > LAZY_ABOVE or (
            os.fspath(name_or_path).lower() not in BUNDLED and len(train_index) * 12 * resolution ** 2 > LAZY_BYTES)
    name = os.fspath(name_or_path)
    if lazy:
        sample = source.images(train_index[:512], resolution)
        mean = tuple(sample.mean(dim=(0, 2, 3)).tolist()) if normalize else (0.0, 0.0, 0.0)
        std = tuple(sample.std(dim=(0, 2, 3)).clamp_min(1e-3).tolist()) if normalize else (1.0, 1.0, 1.0)
        return ImageData(None, torch.from_numpy(labels[train_index]), None, torch.from_numpy(val_labels),
                         classes, name, resolution, train_index, val_index, mean, std, source, val_source)
    workers = workers if isinstance(source, FileSource) else 0
    train_x = decode_all(source, train_index, resolution, workers)
    held = val_source or source
    val_x = decode_all(held, val_index, resolution, workers if isinstance(held, FileSource) else 0)
    mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    if normalize:
        m = train_x.mean(dim=(0, 2, 3))
        s = train_x.std(dim=(0, 2, 3)).clamp_min(1e-3)
        train_x = (train_x - m[:, None, None]) / s[:, None, None]
        val_x = (val_x - m[:, None, None]) / s[:, None, None]
        mean, std = tuple(m.tolist()), tuple(s.tolist())
    return ImageData(train_x.contiguous(), torch.from_numpy(labels[train_index]), val_x.contiguous(),
                     torch.from_numpy(val_labels), classes, name, resolution, train_index, val_index,
                     mean, std, val_source=val_source)
