"""Hitting a MACs target: solve φ on the analytic cost, then search the rounding neighbourhood.

1. Bisection on φ: compound MACs(φ) is a non-decreasing step function (ceil repeats, official
   filter rounding, resolution rounded to 8 px), so bisection brackets the target between two
   compound members φ_lo < φ_hi (|φ_hi − φ_lo| ≤ 2e-4, φ rounded to 4 decimals).
2. Around each of the two, the discrete neighbourhood of rounding choices is searched:
   * resolution: the multiples of 8 px within ±6% of the compound resolution (at least the two
     bracketing γ^φ·R0), never below SCALED_RESOLUTION_FLOOR;
   * per-stage output filters (pinned in `Arch.stage_filters`): the multiple of the stage kind's
     filter step (the divisor; divisor · e for a ResNet bottleneck) at or below f·w and the next one
     up (plus the kind's own rounding), never below the width floor;
   * per-stage repeats (pinned in `Arch.stage_repeats`): floor(r·d) or one more (plus the
     official ceil), at least 1;
   * bases of at most FEW_STAGES = 4 stages (ResNet), whose few coarse stages leave gaps of several
     percent between members, also take one step below and two above for filters and repeats.
   Cost is additive over stages for a fixed resolution, so all filter × repeat combinations
   (up to 2^8 × 2^8 for the 8 costliest stages; 5^4 × 5^4 for ResNet's) are costed at once with one
   matrix product.
3. Pick the member closest to the target whose drift — the largest of |mean log(filters /
   compound filters)|, |log(layers / compound layers)| and |log(resolution / compound
   resolution)| — is at most DRIFT_TOLERANCE = 0.10, i.e. every dimension stays within ~10% of
   the compound member at the solved φ, so depth:width:resolution keeps the compound ratio.
   Among members within 0.1 percentage point of the closest error, the smallest drift wins.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from search_spaces import Arch, InputError
from search_spaces.bounds import MAX_CHANNELS, MAX_LAYERS, MAX_PHI, MAX_RESOLUTION
from search_spaces.cost import classifier_cost, head_cost, layer_cost, stem_cost
from search_spaces.geometry import stage_geometry, stem_output_size
from search_spaces.units import format_size

from .coefficients import TOLERANCE, Coefficients, as_coefficients
from .scale import RESOLUTION_MULTIPLE, SCALED_RESOLUTION_FLOOR, WIDTH_FLOOR, compound_scale, last_valid

if TYPE_CHECKING:  # numpy is imported by the functions that fit a target (`effnas family --phis` needs none)
    import numpy as np

DRIFT_TOLERANCE = 0.10
RESOLUTION_WINDOW = 0.06
TIE_BAND = 0.001
MAX_VARIED_STAGES = 8
FEW_STAGES = 4


@dataclass(frozen=True)
class TargetFit:
    """The member chosen for one MACs target. error = (macs − target) / target; drift as above."""

    target: int
    phi: float
    arch: Arch
    macs: int
    params: int
    error: float
    drift: float


@dataclass(frozen=True)
class _Options:
    """Rounding choices around the compound member at one φ (shared by all resolutions)."""

    nominal: Arch
    filters: list[tuple[int, ...]]   # options per stage
    repeats: list[tuple[int, ...]]
    filter_combos: np.ndarray        # (combos, stages): option index per stage
    repeat_combos: np.ndarray
    width_drift: np.ndarray          # per filter combo
    depth_drift: np.ndarray          # per repeat combo
    extra_layers: np.ndarray         # (repeat combos, stages): repeats − 1


@dataclass(frozen=True)
class _Neighbourhood:
    resolution: int
    macs: np.ndarray                 # (filter combos, repeat combos)
    drift: np.ndarray


@lru_cache(maxsize=64)
def _combos(sizes: tuple[int, ...]) -> np.ndarray:
    """All option-index combinations, shape (prod(sizes), len(sizes))."""
    import numpy as np

    return np.array(list(itertools.product(*[range(s) for s in sizes])), dtype=np.intp).reshape(-1, len(sizes))


def _options(base: Arch, phi: float, coefficients: Coefficients) -> _Options:
    import numpy as np

    nominal = compound_scale(base, phi, coefficients=coefficients, allow_any=True)
    varied = _varied_stages(nominal)
    width, depth, divisor = nominal.width, nominal.depth, nominal.divisor
    floor_width = min(WIDTH_FLOOR, base.width)
    filters, repeats = [], []
    for index, (block, stage) in enumerate(zip(base.blocks, nominal.stages, strict=True)):
        if index not in varied:
            filters.append((stage.out_filters,))
            repeats.append((stage.repeats,))
            continue
        # the kind's width rule and step (ResNet's bottleneck: multiples of divisor · expansion)
        clamp = block.kind.scale_filters(block, floor_width, divisor)
        unit = block.kind.filter_unit(block, divisor)
        low = max(clamp, unit * math.floor(block.out_filters * width / unit + 1e-9))
        layers = max(1, math.floor(block.repeats * depth + 1e-9))
        # four stages or fewer (ResNet) leave few combinations: one more step each way
        wide = len(varied) <= FEW_STAGES
        filters.append(tuple(sorted({low, low + unit, stage.out_filters}
                                    | ({max(clamp, low - unit), low + 2 * unit} if wide else set()))))
        repeats.append(tuple(sorted({layers, layers + 1, stage.repeats}
                                    | ({max(1, layers - 1), layers + 2} if wide else set()))))
    fc = _combos(tuple(len(f) for f in filters))
    rc = _combos(tuple(len(r) for r in repeats))
    n = len(filters)
    f_nominal = np.array([s.out_filters for s in nominal.stages], dtype=float)
    f_log = np.stack([np.log(np.array(filters[i], dtype=float)[fc[:, i]] / f_nominal[i]) for i in range(n)], axis=1)
    layers = np.stack([np.array(repeats[i], dtype=float)[rc[:, i]] for i in range(n)], axis=1)
    return _Options(nominal, filters, repeats, fc, rc, np.abs(f_log.mean(axis=1)),
                    np.abs(np.log(layers.sum(axis=1) / sum(s.repeats for s in nominal.stages))), layers - 1)


def _resolutions(base: Arch, phi: float, coefficients: Coefficients, nominal: Arch) -> list[int]:
    raw = base.resolution * coefficients.gamma ** phi
    floor = min(SCALED_RESOLUTION_FLOOR, base.resolution)
    m = RESOLUTION_MULTIPLE
    low, high = raw * (1 - RESOLUTION_WINDOW), raw * (1 + RESOLUTION_WINDOW)
    values = {v for v in range(m * math.ceil(low / m), int(high) + 1, m)}
    values |= {m * math.floor(raw / m), m * math.ceil(raw / m), nominal.resolution}
    return sorted({min(MAX_RESOLUTION, max(floor, v)) for v in values})


def _neighbourhood(base: Arch, options: _Options, resolution: int) -> _Neighbourhood:
    """MACs and drift of every filter × repeat combination at one resolution (cost is additive)."""
    import numpy as np

    nominal, filters, fc = options.nominal, options.filters, options.filter_combos
    stem = nominal.stem_channels
    a = np.full(len(fc), float(stem_cost(base.in_channels, stem, stem_output_size(resolution), base.stem_kernel)[1]))
    rest = np.zeros((len(fc), len(filters)))
    previous = (stem,)
    # the nominal member's stages: the sizes at `resolution`, and the op, kernel, stride, expansion,
    # SE and skip every filter choice shares (scaling changes filters and repeats only)
    for geometry in stage_geometry(nominal, resolution):
        i, stage, size = geometry.index, geometry.stage, geometry.out_size
        first = np.zeros((len(previous), len(filters[i])))
        rest_i = np.zeros(len(filters[i]))
        for b, cout in enumerate(filters[i]):
            for p, cin in enumerate(previous):
                first[p, b] = layer_cost(stage, geometry.in_size, in_filters=cin, out_filters=cout)[1]
            rest_i[b] = layer_cost(stage, size, in_filters=cout, out_filters=cout, stride=1)[1]
        a += first[fc[:, i - 1] if i else 0, fc[:, i]]
        rest[:, i] = rest_i[fc[:, i]]
        previous = filters[i]
    head = nominal.head_channels
    last = np.array(filters[-1], dtype=float)[fc[:, -1]]
    a += head_cost(last, head, size)[1] + classifier_cost(head or last, nominal.num_classes)[1]
    macs = a[:, None] + rest @ options.extra_layers.T
    res_drift = abs(math.log(resolution / nominal.resolution))
    drift = np.maximum(np.maximum(options.width_drift[:, None], options.depth_drift[None, :]), res_drift)
    return _Neighbourhood(resolution, macs, drift)


def _varied_stages(nominal: Arch) -> set[int]:
    if len(nominal.blocks) <= MAX_VARIED_STAGES:
        return set(range(len(nominal.blocks)))
    shares = [(layer_cost(g.stage, g.in_size)[1] * g.stage.repeats, g.index) for g in stage_geometry(nominal)]
    return {i for _, i in sorted(shares, reverse=True)[:MAX_VARIED_STAGES]}


def _candidates(base: Arch, phi: float, coefficients: Coefficients) -> tuple[_Options, list[_Neighbourhood]]:
    options = _options(base, phi, coefficients)
    return options, [_neighbourhood(base, options, r)
                     for r in _resolutions(base, phi, coefficients, options.nominal)]


def compound_macs(base: Arch, phi: float, coefficients: Coefficients) -> int:
    return compound_scale(base, phi, coefficients=coefficients, allow_any=True).cost().macs


@lru_cache(maxsize=256)
def phi_range(base: Arch, coefficients: Coefficients) -> tuple[float, float]:
    """[φ_min, φ_max] searched: within ±MAX_PHI, the compound member stays within the bounds of
    search_spaces.bounds (resolution, multipliers, channels, layers)."""
    def make(phi: float) -> Arch:
        return compound_scale(base, phi, coefficients=coefficients, allow_any=True)

    return last_valid(make, 0.0, -MAX_PHI), last_valid(make, 0.0, MAX_PHI)


def smallest_macs(base: Arch, coefficients: Coefficients | None = None) -> int:
    """The fewest MACs any target member of `base` can have (all floors reached)."""
    return _smallest(base.scaled(), as_coefficients(coefficients))


@lru_cache(maxsize=256)
def _smallest(base: Arch, coefficients: Coefficients) -> int:
    low, _ = phi_range(base, coefficients)
    _, hoods = _candidates(base, low, coefficients)
    return int(min(h.macs.min() for h in hoods))


def _bracket(base: Arch, target: int, coefficients: Coefficients) -> tuple[float, float]:
    first, last = phi_range(base, coefficients)
    if compound_macs(base, first, coefficients) >= target:
        return first, first
    if compound_macs(base, last, coefficients) < target:
        return last, last
    # start from φ ≈ log(target / base MACs) / log(α·β²·γ²) and widen until it brackets
    guess = math.log(target / base.cost().macs) / math.log(max(coefficients.product, 1.01))
    low, high, step = guess - 0.25, guess + 0.25, 0.5
    while low > first and compound_macs(base, low, coefficients) >= target:
        low, step = max(first, low - step), step * 2
    while high < last and compound_macs(base, high, coefficients) < target:
        high, step = min(last, high + step), step * 2
    low, high = max(low, first), min(high, last)
    while high - low > 1e-4:
        middle = 0.5 * (low + high)
        if compound_macs(base, middle, coefficients) >= target:
            high = middle
        else:
            low = middle
    return max(first, math.floor(low * 1e4) / 1e4), min(last, math.ceil(high * 1e4) / 1e4)


def fit_target(base: Arch, target: int, coefficients: Coefficients | None = None, *, allow_any: bool = False,
               tolerance: float = TOLERANCE) -> TargetFit:
    """The member of `base`'s compound family closest to `target` MACs (see module docstring)."""
    import numpy as np

    coefficients = as_coefficients(coefficients).check(allow_any, tolerance)
    if isinstance(target, bool) or not isinstance(target, int | float) or not target > 0:
        raise InputError(f"MACs target must be a positive number, got {target!r}")
    unpinned = base.scaled()
    smallest = smallest_macs(unpinned, coefficients)
    if target < smallest:
        raise InputError(f"target {format_size(target)} MACs is below the smallest member {base.name} can reach "
                         f"({smallest:,} MACs = {format_size(smallest)})")
    phi_lo, phi_hi = _bracket(unpinned, target, coefficients)
    best = None
    for phi in sorted({phi_lo, phi_hi}):
        options, hoods = _candidates(unpinned, phi, coefficients)
        for hood in hoods:
            error = np.abs(hood.macs - target) / target
            masked = np.where(hood.drift <= DRIFT_TOLERANCE, error, np.inf)
            closest = masked.min()
            if not np.isfinite(closest):
                continue
            ties = np.flatnonzero(masked <= closest + TIE_BAND)
            pick = ties[np.lexsort((masked.flat[ties], hood.drift.flat[ties]))[0]]
            f, r = divmod(int(pick), masked.shape[1])
            key = (round(float(closest) / TIE_BAND), float(hood.drift[f, r]), float(masked[f, r]))
            if best is None or key < best[0]:
                best = (key, phi, options, hood, int(f), int(r))
    if best is None:
        raise InputError(f"no member of {base.name} within the drift tolerance for {format_size(target)} MACs")
    _, phi, options, hood, f, r = best
    arch = _member(options, hood, f, r, target)
    cost = arch.cost()
    if cost.macs != int(round(hood.macs[f, r])):
        raise RuntimeError(f"target search cost table disagrees with the cost model ({cost.macs} vs {hood.macs[f, r]})")
    if phi_hi >= phi_range(unpinned, coefficients)[1] and cost.macs < target * 0.99:
        raise InputError(f"target {format_size(target)} MACs is above the largest member {base.name} can reach "
                         f"(about {format_size(cost.macs)} MACs: members stay within {MAX_RESOLUTION} px, "
                         f"{MAX_CHANNELS} channels and {MAX_LAYERS} layers)")
    return TargetFit(target=int(target), phi=phi, arch=arch, macs=cost.macs, params=cost.params,
                     error=(cost.macs - target) / target, drift=float(hood.drift[f, r]))


def _member(options: _Options, hood: _Neighbourhood, f: int, r: int, target: int) -> Arch:
    nominal, stages = options.nominal, options.nominal.stages
    filters = tuple(int(options.filters[i][j]) for i, j in enumerate(options.filter_combos[f]))
    repeats = tuple(int(options.repeats[i][j]) for i, j in enumerate(options.repeat_combos[r]))
    pin_filters = None if filters == tuple(s.out_filters for s in stages) else filters
    pin_repeats = None if repeats == tuple(s.repeats for s in stages) else repeats
    base_name = nominal.name.split("@")[0]
    return nominal.with_(resolution=hood.resolution, stage_filters=pin_filters, stage_repeats=pin_repeats,
                         name=f"{base_name}@{format_size(target)}")
