"""search_spaces: WHAT can be built — architectures as data, the MnasNet space, the builder,
the stage/layer geometry, the analytic cost model and graph export. Knows nothing of search, Ray or runs.

Importing the package does not import torch: the torch-backed names (``load_weights``) load on
first use, so the analytic commands answer without it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .arch import Arch
from .blocks import BlockArgs, parse_block, parse_blocks
from .cost import Cost
from .errors import InputError
from .geometry import LayerGeometry, StageGeometry, layer_geometry, stage_geometry
from .lazy import lazy_names
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


__getattr__ = lazy_names(__name__, _LAZY)
