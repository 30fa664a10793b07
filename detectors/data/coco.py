"""COCO-format detection data: a typed, validated reader of an instances JSON and its image folder.

Layout (COCO's own): ``DIR/annotations/instances_SPLIT.json`` + ``DIR/SPLIT/`` holding the images the
JSON names (:func:`open_coco`), or any instances JSON with an image folder (:func:`read_coco`).
Boxes are COCO's ``bbox = [x, y, w, h]`` in pixels, (x, y) the top-left corner; ``area`` (pixels²) is
kept as given (segmentation area in real COCO; it decides small/medium/large), else w·h.

Everything is checked before anything is used, each problem one InputError line naming the file:
not COCO (``images``/``annotations``/``categories`` missing or not lists), malformed records,
duplicate image/annotation/category ids (and category names), a box of non-positive size or
outside its image (beyond ``BOX_SLACK`` px of rounding), an image id or category id the JSON does
not define, an image file name leaving the folder or naming no file. The JSON is read by
:func:`search_spaces.readers.read_json_file` (at most ``MAX_DATA_FILE_BYTES`` = 1 GiB, strict UTF-8, finite
numbers).
Importing this module does not import torch.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from search_spaces import InputError
from search_spaces.bounds import MAX_DATA_FILE_BYTES
from search_spaces.readers import read_json_file

BOX_SLACK = 0.5  # px a box may pass its image's edge by (coordinate rounding in real annotations)
SMALL_AREA, LARGE_AREA = 32 ** 2, 96 ** 2  # COCO's area ranges (px²): small < 32², medium < 96², large
_SPLIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class CocoImage:
    """One image: COCO id, file name relative to the image folder, size in pixels."""

    id: int
    file: str
    width: int
    height: int


@dataclass(frozen=True)
class CocoCategory:
    """One class: COCO category id and its name."""

    id: int
    name: str
    supercategory: str = ""


@dataclass(frozen=True)
class CocoBox:
    """One annotated object: box (x, y) top-left, w × h in pixels; area in pixels²."""

    image_id: int
    category_id: int
    x: float
    y: float
    w: float
    h: float
    id: int = 0
    area: float = 0.0
    iscrowd: int = 0

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        """(x1, y1, x2, y2) pixels, the order of :mod:`detectors.boxes`."""
        return self.x, self.y, self.x + self.w, self.y + self.h


@dataclass(frozen=True)
class CocoSet:
    """A validated detection set: images, their boxes, the categories; `image_dir` holds the files
    (None when they were not checked). Look-ups: :meth:`image`, :meth:`boxes_of`, :meth:`category`."""

    images: tuple[CocoImage, ...]
    boxes: tuple[CocoBox, ...]
    categories: tuple[CocoCategory, ...]
    image_dir: Path | None = None
    source: str = "COCO data"
    _by_image: dict[int, tuple[CocoBox, ...]] = field(init=False, repr=False, compare=False)
    _images: dict[int, CocoImage] = field(init=False, repr=False, compare=False)
    _categories: dict[int, CocoCategory] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_image: dict[int, list[CocoBox]] = {image.id: [] for image in self.images}
        for box in self.boxes:
            by_image.setdefault(box.image_id, []).append(box)
        object.__setattr__(self, "_by_image", {key: tuple(value) for key, value in by_image.items()})
        object.__setattr__(self, "_images", {image.id: image for image in self.images})
        object.__setattr__(self, "_categories", {category.id: category for category in self.categories})

    def image(self, image_id: int) -> CocoImage:
        """The image with COCO id `image_id` (KeyError if none)."""
        return self._images[image_id]

    def boxes_of(self, image_id: int) -> tuple[CocoBox, ...]:
        """The boxes of one image (empty for an image without objects)."""
        return self._by_image.get(image_id, ())

    def category(self, category_id: int) -> CocoCategory:
        """The category with COCO id `category_id` (KeyError if none)."""
        return self._categories[category_id]

    @property
    def category_ids(self) -> tuple[int, ...]:
        return tuple(category.id for category in self.categories)

    def path(self, image_id: int) -> Path:
        """The image file of `image_id` (needs `image_dir`)."""
        if self.image_dir is None:
            raise InputError(f"{self.source} has no image folder")
        return self.image_dir / self.image(image_id).file

    def counts(self) -> dict[str, int]:
        """images, boxes, categories and boxes per COCO area range (small < 32² ≤ medium < 96² ≤ large px²)."""
        areas = [box.area for box in self.boxes]
        return {"images": len(self.images), "boxes": len(self.boxes), "categories": len(self.categories),
                "small": sum(a < SMALL_AREA for a in areas),
                "medium": sum(SMALL_AREA <= a < LARGE_AREA for a in areas),
                "large": sum(a >= LARGE_AREA for a in areas)}

    def to_coco(self) -> dict[str, Any]:
        """The set as a COCO instances dict (what pycocotools' COCO.dataset holds)."""
        return {"images": [{"id": i.id, "file_name": i.file, "width": i.width, "height": i.height}
                           for i in self.images],
                "annotations": [{"id": b.id, "image_id": b.image_id, "category_id": b.category_id,
                                 "bbox": [b.x, b.y, b.w, b.h], "area": b.area, "iscrowd": b.iscrowd}
                                for b in self.boxes],
                "categories": [{"id": c.id, "name": c.name, "supercategory": c.supercategory}
                               for c in self.categories]}


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _records(data: Mapping, key: str, source: str) -> list[Mapping]:
    records = data.get(key)
    if not isinstance(records, list):
        raise InputError(f"{source} is not COCO instances JSON: "
                         f"{'no' if records is None else 'a non-list'} {key!r} (needs images, annotations, categories)")
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise InputError(f"{source}: {key}[{index}] is not an object")
    return records


def _int_field(record: Mapping, key: str, what: str, source: str, low: int = 0) -> int:
    value = record.get(key)
    if not _is_int(value) or value < low:
        raise InputError(f"{source}: {what} has {key} {value!r}; it must be a whole number >= {low}")
    return int(value)


def _file_name(value: Any, what: str, source: str) -> str:
    if not isinstance(value, str) or not value or "\\" in value or "\x00" in value:
        raise InputError(f"{source}: {what} has file_name {value!r}; it must be a relative path such as '000001.png'")
    parts = PurePosixPath(value).parts
    if value.startswith("/") or ".." in parts or os.path.isabs(value):
        raise InputError(f"{source}: {what} has file_name {value!r}, which leaves the image folder")
    return value


def coco_set(data: Any, source: str = "COCO data", image_dir: str | os.PathLike | None = None) -> CocoSet:
    """Validate a parsed instances JSON (`source` names it in errors) into a :class:`CocoSet`; with
    `image_dir`, every image file it names must exist there."""
    if not isinstance(data, Mapping):
        raise InputError(f"{source} is not COCO instances JSON: it is not an object with images, annotations, "
                         "categories")
    raw_images, raw_boxes, raw_categories = (_records(data, key, source)
                                             for key in ("images", "annotations", "categories"))
    categories: dict[int, CocoCategory] = {}
    names: set[str] = set()
    for index, record in enumerate(raw_categories):
        what = f"categories[{index}]"
        cid = _int_field(record, "id", what, source)
        name, supercategory = record.get("name"), record.get("supercategory", "")
        if not isinstance(name, str) or not name or not isinstance(supercategory, str):
            raise InputError(f"{source}: category {cid} needs a non-empty name (a string), got {name!r}")
        if cid in categories:
            raise InputError(f"{source}: duplicate category id {cid}")
        if name in names:
            raise InputError(f"{source}: duplicate category name {name!r}")
        categories[cid] = CocoCategory(cid, name, supercategory)
        names.add(name)
    images: dict[int, CocoImage] = {}
    files: set[str] = set()
    for index, record in enumerate(raw_images):
        iid = _int_field(record, "id", f"images[{index}]", source)
        what = f"image {iid}"
        width, height = (_int_field(record, key, what, source, low=1) for key in ("width", "height"))
        name = _file_name(record.get("file_name"), what, source)
        if iid in images:
            raise InputError(f"{source}: duplicate image id {iid}")
        if name in files:
            raise InputError(f"{source}: two images share the file_name {name!r}")
        images[iid] = CocoImage(iid, name, width, height)
        files.add(name)
    boxes: list[CocoBox] = []
    box_ids: set[int] = set()
    for index, record in enumerate(raw_boxes):
        bid = _int_field(record, "id", f"annotations[{index}]", source)
        what = f"annotation {bid}"
        iid = _int_field(record, "image_id", what, source)
        cid = _int_field(record, "category_id", what, source)
        if bid in box_ids:
            raise InputError(f"{source}: duplicate annotation id {bid}")
        if iid not in images:
            raise InputError(f"{source}: {what} names image {iid}, which is not among the images")
        if cid not in categories:
            known = ", ".join(map(str, sorted(categories))) or "none"
            raise InputError(f"{source}: {what} has category_id {cid}, which is not among the categories ({known})")
        bbox = record.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(map(_is_number, bbox)):
            raise InputError(f"{source}: {what} needs bbox [x, y, w, h] (4 finite numbers, pixels), got {bbox!r}")
        x, y, w, h = (float(v) for v in bbox)
        if w <= 0 or h <= 0:
            raise InputError(f"{source}: {what} has a box of non-positive size {w:g} × {h:g} px")
        image = images[iid]
        if x < -BOX_SLACK or y < -BOX_SLACK or x + w > image.width + BOX_SLACK or y + h > image.height + BOX_SLACK:
            raise InputError(f"{source}: {what} has box [{x:g}, {y:g}, {w:g}, {h:g}] outside its "
                             f"{image.width} × {image.height} px image {iid}")
        area = record.get("area", w * h)
        if not _is_number(area) or area < 0:
            raise InputError(f"{source}: {what} has area {area!r}; it must be a finite number >= 0 (px²)")
        crowd = record.get("iscrowd", 0)
        if not _is_int(crowd) or crowd not in (0, 1):
            raise InputError(f"{source}: {what} has iscrowd {crowd!r}; it must be 0 or 1")
        boxes.append(CocoBox(iid, cid, x, y, w, h, bid, float(area), int(crowd)))
        box_ids.add(bid)
    folder = None
    if image_dir is not None:
        folder = Path(image_dir)
        if not folder.is_dir():
            raise InputError(f"image folder {os.fspath(image_dir)!r} of {source} is not a folder")
        for image in images.values():
            if not (folder / image.file).is_file():
                raise InputError(f"{source}: image {image.id}'s file {image.file!r} does not exist in "
                                 f"{os.fspath(folder)!r}")
    return CocoSet(tuple(images.values()), tuple(boxes), tuple(categories.values()), folder, source)


def read_coco(annotations: str | os.PathLike, images: str | os.PathLike | None = None) -> CocoSet:
    """A COCO instances JSON file (bounded read) and, unless None, the image folder it names files in."""
    source = f"COCO instances file {os.fspath(annotations)!r}"
    return coco_set(read_json_file(annotations, "COCO instances", max_bytes=MAX_DATA_FILE_BYTES), source, images)


def coco_paths(root: str | os.PathLike, split: str) -> tuple[Path, Path]:
    """(annotations JSON, image folder) of `split` in the COCO layout under `root`."""
    if not isinstance(split, str) or not _SPLIT.fullmatch(split):
        raise InputError(f"split must be a simple name such as train, val or val2017, got {split!r}")
    root = Path(root)
    return root / "annotations" / f"instances_{split}.json", root / split


def open_coco(root: str | os.PathLike, split: str, *, check_files: bool = True) -> CocoSet:
    """The `split` of a COCO folder: ``ROOT/annotations/instances_SPLIT.json`` + ``ROOT/SPLIT/``."""
    if not os.path.isdir(root):
        what = "does not exist" if not os.path.exists(root) else "is not a folder"
        raise InputError(f"COCO folder {os.fspath(root)!r} {what}")
    annotations, images = coco_paths(root, split)
    if not annotations.is_file():
        raise InputError(f"COCO folder {os.fspath(root)!r} has no {split} split: "
                         f"annotations/instances_{split}.json is missing")
    return read_coco(annotations, images if check_files else None)


def coco_splits(root: str | os.PathLike) -> list[str]:
    """The splits of a COCO folder: the SPLIT of each ``annotations/instances_SPLIT.json``, sorted."""
    folder = Path(root) / "annotations"
    if not folder.is_dir():
        return []
    found = (name.name[len("instances_"):-len(".json")] for name in folder.iterdir()
             if name.name.startswith("instances_") and name.name.endswith(".json"))
    return sorted(split for split in found if _SPLIT.fullmatch(split))
