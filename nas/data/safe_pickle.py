"""A restricted unpickler that admits only numpy arrays (and plain containers of them).

Pickles can run arbitrary code on load; data files shipped inside wheels or handed to us by
users are read with :func:`safe_load`, which resolves only the handful of numpy globals needed
to rebuild ``ndarray`` objects. Anything else raises :class:`InputError`. Never ``pickle.load``.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
from typing import Any, BinaryIO

from search_spaces import InputError

# (module, name) pairs a pickled numpy array needs; numpy 1.x and 2.x spellings.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` refuses every global except numpy array reconstruction."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise InputError(f"refusing to unpickle {module}.{name}: only numpy arrays are admitted")


def safe_loads(data: bytes) -> Any:
    """Unpickle bytes admitting only numpy arrays, numbers, strings and containers."""
    return safe_load(io.BytesIO(data))


def safe_load(source: BinaryIO | str | os.PathLike) -> Any:
    """Unpickle a file object or path (``.gz`` transparently) admitting only numpy arrays."""
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as handle:
            return safe_load(handle)
    try:
        return NumpyOnlyUnpickler(source, encoding="latin1").load()
    except InputError:
        raise
    except Exception as error:  # corrupt or truncated pickle
        raise InputError(f"cannot read pickle: {error}") from None
