"""Every bound on user input, defined once (the table in docs/BOUNDS.md), with the checkers that apply them.

The bounds are generous for real use (EfficientNet-L2, the largest published member, has 88 layers,
5504 head channels and 480M parameters) and keep anything a user can ask for within seconds and a
few GB: records are checked where they are decoded or built (file readers, BlockArgs, Arch,
Coefficients, scaling), so every command and the Python API get the same answer.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from .errors import InputError

MAX_FILE_BYTES = 4 * 2**20      # an arch/family/coefficients JSON, a JOB.toml, a --config file
MAX_DATA_FILE_BYTES = 2**30     # a data set's annotations (COCO train2017's instances JSON is 448 MB)
MAX_NESTING = 64                # lists/objects/tables inside each other in such a file
MAX_KEY_PARTS = 64              # parts of one dotted TOML key (a.b.c); tomllib is quadratic in them
MAX_NUMBER_DIGITS = 9           # digits of a whole number inside a block string (r4, o1280)
MAX_STAGES = 64                 # blocks (stages) of an architecture
MAX_REPEATS = 128               # layers of one stage, after depth scaling
MAX_LAYERS = 512                # layers of a whole architecture, after depth scaling
MAX_CHANNELS = 16384            # channels of any conv (stem, stages, expanded, head), after width scaling
MAX_DIVISOR = 256               # the channel-rounding divisor
MAX_CLASSES = 100_000           # classifier / detector classes
MIN_RESOLUTION = 8              # input side in pixels of any arch (scaling's own floor: 64, scaling.scale)
MAX_RESOLUTION = 8192
MAX_MULTIPLIER = 100.0          # width and depth multipliers (the channel/layer bounds usually bind first)
MIN_COEFFICIENT = 0.01          # compound-scaling alpha, beta, gamma (with --allow-any-coefficients)
MAX_COEFFICIENT = 100.0
MAX_PHI = 50.0                  # |phi| of compound scaling
MAX_SIZE = 10**15               # a MACs/params size such as --targets 3G (1000T)
MAX_BUILD_PARAMS = 2 * 10**9    # parameters of a model that is actually built (8 GB of float32 weights)
MAX_TRIALS = 1_000_000          # search trials
MAX_SAMPLES = 100_000           # `space sample --n`
MAX_SEED = 2**32 - 1            # random seeds (numpy's and torch's common range)
MAX_GRACE_EPOCHS = 1000         # a trial scheduler's grace period (epochs before a trial can be stopped)
MAX_REDUCTION_FACTOR = 100.0    # a trial scheduler's reduction factor (> 1)
MAX_BRACKETS = 20               # HyperBand brackets
MAX_BAND = 0.9                  # a search's cost band ±b around its target (b < 1: the lower edge stays > 0)


def check_int(value: Any, what: str, low: int, high: int) -> int:
    """`value` as an int when it is a whole number (not a bool, not a float) in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{what} must be a whole number in {low}..{high}, got {value!r}")
    if not low <= value <= high:
        raise InputError(f"{what} must be in {low}..{high}, got {value}")
    return int(value)


def check_number(value: Any, what: str, low: float, high: float, *, open_low: bool = False,
                 open_high: bool = False) -> float:
    """`value` as a float when it is a finite real number (not a bool) within the interval."""
    interval = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{what} must be a number in {interval}, got {value!r}")
    if not math.isfinite(value):
        raise InputError(f"{what} must be a finite number in {interval}, got {value!r}")
    if value < low or value > high or (open_low and value == low) or (open_high and value == high):
        raise InputError(f"{what} must be in {interval}, got {value:g}")
    return float(value)


def check_trials(value: Any, what: str = "trials") -> int:
    """Number of search trials: a whole number in 1..MAX_TRIALS."""
    return check_int(value, what, 1, MAX_TRIALS)


def check_seed(value: Any, what: str = "seed") -> int:
    """A random seed: a whole number in 0..MAX_SEED."""
    return check_int(value, what, 0, MAX_SEED)


def check_channels(value: Any, what: str) -> int:
    """A channel count in 1..MAX_CHANNELS."""
    return check_int(value, what, 1, MAX_CHANNELS)


def check_build_params(params: int, name: str) -> None:
    """A model of `params` parameters may be built: at most MAX_BUILD_PARAMS (checked before allocating)."""
    if params > MAX_BUILD_PARAMS:
        raise InputError(f"{name} has {params:,} parameters; at most {MAX_BUILD_PARAMS:,} are built "
                         f"({4 * MAX_BUILD_PARAMS // 10**9} GB of float32 weights)")


def within(low: float, high: float | None = None) -> Callable[[Any, str], None]:
    """A record field's closed bounds (no upper one: `high` None), in its words: "evaluator option 'lr'
    must be in [0.0, 100.0], got -1.0"."""
    def check(value: Any, what: str) -> None:
        if value < low or high is not None and value > high:
            raise InputError(f"{what} must be in [{low}, {high}], got {value!r}")
    return check
