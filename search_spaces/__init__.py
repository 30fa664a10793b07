"""search_spaces: WHAT can be built — architectures as data, the MnasNet space, the builder,
the stage/layer geometry, the analytic cost model and graph export. Knows nothing of search, Ray or runs.

Importing the package does not import torch: the torch-backed names (``load_weights``) load on
first use, so the analytic commands answer without it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .arch import Arch
from .blocks import BlockArgs, parse_block, parse_blocks
from .cost import Cost
from .errors import InputError
from .geometry import LayerGeometry, StageGeometry, layer_geometry, stage_geometry
from .load import load_arch
from .presets import preset, preset_names
from .rounding import round_filters, round_repeats
from .space import MnasNetSpace

if TYPE_CHECKING:
    from .weights import load_weights

_LAZY = {"load_weights": ".weights"}  # name -> module that needs torch

__all__ = [
    "Arch", "BlockArgs", "Cost", "InputError", "LayerGeometry", "MnasNetSpace", "StageGeometry", "layer_geometry",
    "load_arch", "load_weights", "parse_block", "parse_blocks", "preset", "preset_names", "round_filters",
    "round_repeats", "stage_geometry",
]


def __getattr__(name: str) -> Any:
    """Load a torch-backed public name on first use."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
