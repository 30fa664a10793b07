"""Image sources: labelled images that `load_dataset` splits, resizes and normalises.

A source holds integer ``labels`` (shape [N]), ``classes`` (names) and decodes the images at
requested indices to a float tensor [n, 3, R, R] in [0, 1] (grayscale replicated to 3 channels).
Array sources keep uint8 pixels in memory; ImageFolder sources decode only the files asked for.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from search_spaces import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".ppm", ".pgm", ".tif", ".tiff")


def to_rgb_tensor(pixels: np.ndarray, resolution: int, scale: float = 255.0) -> torch.Tensor:
    """uint8/float pixels [n, H, W] or [n, H, W, C] → float [n, 3, R, R] in [0, 1] (bilinear, antialiased)."""
    x = torch.from_numpy(np.ascontiguousarray(pixels)).float() / scale
    if x.ndim == 3:
        x = x.unsqueeze(-1)
    x = x.permute(0, 3, 1, 2)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    elif x.shape[1] == 4:
        x = x[:, :3]
    if x.shape[-1] != resolution or x.shape[-2] != resolution:
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False,
                          antialias=x.shape[-1] > resolution)
    return x.clamp(0.0, 1.0).contiguous()


@dataclass(frozen=True)
class ArraySource:
    """Images held as an array [N, H, W] or [N, H, W, C] with pixel range [0, `scale`]."""

    name: str
    pixels: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    scale: float = 255.0

    def images(self, indices: Sequence[int] | np.ndarray, resolution: int) -> torch.Tensor:
        return to_rgb_tensor(self.pixels[np.asarray(indices, dtype=np.int64)], resolution, self.scale)


@dataclass(frozen=True)
class FileSource:
    """An ImageFolder-layout directory: root/<class>/<image>; decoded with Pillow on demand."""

    name: str
    files: tuple[str, ...]
    labels: np.ndarray
    classes: tuple[str, ...]

    def images(self, indices: Sequence[int] | np.ndarray, resolution: int) -> torch.Tensor:
        out = torch.empty(len(indices), 3, resolution, resolution)
        for row, index in enumerate(np.asarray(indices, dtype=np.int64)):
            out[row] = decode_image(self.files[index], resolution)
        return out


def decode_image(path: str, resolution: int) -> torch.Tensor:
    """One image file → float [3, R, R] in [0, 1]: shorter side resized to R, centre crop."""
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            width, height = image.size
            scale = resolution / min(width, height)
            size = (max(resolution, round(width * scale)), max(resolution, round(height * scale)))
            image = image.resize(size, Image.BILINEAR, reducing_gap=None)
            left, top = (size[0] - resolution) // 2, (size[1] - resolution) // 2
            image = image.crop((left, top, left + resolution, top + resolution))
            pixels = np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot decode image {path}: {error}") from None
    return torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255.0


def image_folder(root: str | os.PathLike) -> FileSource:
    """Index an ImageFolder directory (one sub-directory per class, sorted names = label order)."""
    root = Path(root)
    classes = sorted(entry.name for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith("."))
    files, labels = [], []
    for label, name in enumerate(classes):
        for dirpath, _, filenames in os.walk(root / name, followlinks=True):
            for filename in sorted(filenames):
                if filename.lower().endswith(IMAGE_SUFFIXES):
                    files.append(os.path.join(dirpath, filename))
                    labels.append(label)
    if not files:
        raise InputError(f"{root}: no images found (expected ImageFolder layout root/<class>/<image>)")
    return FileSource(str(root), tuple(files), np.asarray(labels, dtype=np.int64), tuple(classes))


CIFAR_RECORD = 1 + 3 * 32 * 32
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def read_cifar_binary(paths: Sequence[str | os.PathLike]) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (R, G, B planes, 32×32)."""
    pixels, labels = [], []
    for path in paths:
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size == 0 or raw.size % CIFAR_RECORD:
            raise InputError(f"{path}: not a CIFAR-10 binary batch (size {raw.size} is not a multiple of 3073)")
        records = raw.reshape(-1, CIFAR_RECORD)
        if records[:, 0].max() > 9:
            raise InputError(f"{path}: CIFAR-10 label byte {records[:, 0].max()} out of range 0..9")
        labels.append(records[:, 0].astype(np.int64))
        pixels.append(records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return np.concatenate(pixels), np.concatenate(labels)


def cifar_source(path: str | os.PathLike) -> ArraySource:
    """A CIFAR-10 binary batch file, or a directory holding data_batch_*.bin (test_batch.bin unused)."""
    path = Path(path)
    files = [path]
    if path.is_dir():
        files = sorted(path.glob("data_batch_*.bin")) or sorted(path.glob("*.bin"))
    pixels, labels = read_cifar_binary(files)
    return ArraySource(f"cifar10:{path}", pixels, labels, CIFAR10_CLASSES)
