"""Images decoded off the training thread: a ``torch.utils.data.DataLoader`` over one split.

For sources that are decoded per batch (an ImageFolder, or CIFAR / an array file too large to hold
resized in memory: ``ImageData.lazy``) the proxy's training loop asks a :class:`Stream` for the
images of the batches of one pass. The batches (the positions in them and their order) are still
drawn by the training loop from its seeded generator, exactly as before; the stream only decodes
them, in ``workers`` processes (Pillow decode + resize + normalise of one image per item), with
pinned memory for a CUDA device and workers kept across epochs. An image decodes to the same bytes
in a worker as on the training thread, so the batches, and a seeded metric, do not depend on the
number of workers. Bundled sets stay in memory and never come here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from search_spaces import InputError


class SplitImages(Dataset):
    """Image `position` of one split (an index array into `source`), normalised: [3, R, R] float."""

    def __init__(self, source, index: np.ndarray, resolution: int, mean: Sequence[float], std: Sequence[float]):
        self.source, self.index, self.resolution = source, np.asarray(index, dtype=np.int64), resolution
        self.mean = torch.tensor(tuple(mean))[:, None, None]
        self.std = torch.tensor(tuple(std))[:, None, None]

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, position: int) -> torch.Tensor:
        x = self.source.images(self.index[position:position + 1], self.resolution)[0]
        return (x - self.mean) / self.std


class _Failed(str):
    """An item's InputError message, carried from a worker as data (a raised one would come back
    wrapped in a worker traceback, not as the one-line error the training thread gives)."""


class _Items:
    """A worker's __getitem__: the image, or its InputError as a _Failed message."""

    def __init__(self, images: SplitImages):
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, position: int) -> torch.Tensor | _Failed:
        try:
            return self.images[position]
        except InputError as error:
            return _Failed(str(error))


def _collate(items: list) -> torch.Tensor | _Failed:
    failed = next((item for item in items if isinstance(item, _Failed)), None)
    return failed if failed is not None else torch.stack(items)


def _raising(batches: Iterator) -> Iterator[torch.Tensor]:
    for images in batches:
        if isinstance(images, _Failed):
            raise InputError(str(images))
        yield images


class _Batches(Sampler):
    """The batches (lists of positions) of the next pass, set before each `iter(loader)`."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class Stream:
    """Decode batches of one split in `workers` processes (0: on the calling thread, through the
    same Dataset). Call with the batches of a pass (position tensors) to get their images in order."""

    def __init__(self, images: SplitImages, workers: int = 0, pin_memory: bool = False, prefetch: int = 2):
        self.images, self.workers = images, int(workers)
        self._batches = _Batches()
        extra = {"persistent_workers": True, "prefetch_factor": prefetch} if self.workers > 0 else {}
        # its own generator: an iterator's worker seed must not be drawn from the global RNG, which the
        # training's dropout / drop-connect use (the metric would depend on the workers)
        self.loader = DataLoader(_Items(images), batch_sampler=self._batches, num_workers=self.workers,
                                 collate_fn=_collate, pin_memory=pin_memory,
                                 generator=torch.Generator().manual_seed(0), **extra)

    def __call__(self, batches: Sequence[torch.Tensor]) -> Iterator[torch.Tensor]:
        self._batches.batches = [[int(p) for p in batch] for batch in batches]
        if not self._batches.batches:
            return iter(())
        return _raising(iter(self.loader))

    def sequential(self, count: int, batch: int) -> SequentialFetch:
        """A fetch(positions) for readers that walk positions 0..count-1 in order, `batch` at a time
        (the held-out accuracy, BN recalibration), decoded ahead by the workers."""
        return SequentialFetch(self, count, batch)


class SequentialFetch:
    """fetch(positions) -> images, prefetching the consecutive batches it expects; any other request
    is decoded directly (same bytes)."""

    def __init__(self, stream: Stream, count: int, batch: int):
        self.stream, self.count, self.batch = stream, count, batch
        self._iterator: Iterator[torch.Tensor] | None = None
        self._next = 0

    def __call__(self, positions: torch.Tensor) -> torch.Tensor:
        wanted = positions.tolist()
        if not wanted or wanted != list(range(wanted[0], min(wanted[0] + self.batch, self.count))):
            return torch.stack([self.stream.images[p] for p in wanted])  # not a batch of the walk
        if self._iterator is None or wanted[0] != self._next:  # (re)start the walk here
            starts = range(wanted[0], self.count, self.batch)
            self._iterator = self.stream([torch.arange(s, min(s + self.batch, self.count)) for s in starts])
        self._next = wanted[-1] + 1
        return next(self._iterator)


def decode_all(source, index: np.ndarray, resolution: int, workers: int, batch: int = 64) -> torch.Tensor:
    """Every image of `index`, unnormalised [n, 3, R, R] in [0, 1], decoded by `workers` processes
    (the same bytes as ``source.images(index, resolution)``)."""
    if workers <= 0 or len(index) <= batch:
        return source.images(index, resolution)
    stream = Stream(SplitImages(source, index, resolution, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)), workers)
    starts = range(0, len(index), batch)
    parts = list(stream([torch.arange(s, min(s + batch, len(index))) for s in starts]))
    return torch.cat(parts)
