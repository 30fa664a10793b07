"""search_spaces: WHAT can be built — architectures as data, the MnasNet space, the builder,
the analytic cost model and graph export. Knows nothing of search, Ray or runs."""

from .arch import Arch
from .blocks import BlockArgs, parse_block, parse_blocks
from .cost import Cost
from .errors import InputError
from .load import load_arch
from .presets import preset, preset_names
from .rounding import round_filters, round_repeats
from .space import MnasNetSpace
from .weights import load_weights

__all__ = [
    "Arch", "BlockArgs", "Cost", "InputError", "MnasNetSpace", "load_arch", "load_weights",
    "parse_block", "parse_blocks", "preset", "preset_names", "round_filters", "round_repeats",
]
