"""detectors.data: detection data sets in COCO format — the validated reader (:mod:`.coco`) and the
bundled ``mnist-detection`` task (:mod:`.mnist_detection`, real MNIST digits on canvases).

Importing the package imports neither torch nor the MNIST loader: ``make_mnist_detection`` and
``MnistDetectionOptions`` load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from search_spaces.lazy import lazy_names

from .coco import CocoBox, CocoCategory, CocoImage, CocoSet, coco_set, coco_splits, open_coco, read_coco

if TYPE_CHECKING:
    from .mnist_detection import MnistDetectionOptions, make_mnist_detection

_LAZY = {"make_mnist_detection": ".mnist_detection", "MnistDetectionOptions": ".mnist_detection"}

__all__ = ["CocoBox", "CocoCategory", "CocoImage", "CocoSet", "MnistDetectionOptions", "coco_set", "coco_splits",
           "make_mnist_detection", "open_coco", "read_coco"]


__getattr__ = lazy_names(__name__, _LAZY)
