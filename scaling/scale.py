"""Scaling one Arch: compound scaling by φ (EfficientNet eq. 3) and explicit multipliers.

compound_scale(arch, φ): depth × α^φ (stage repeats ceiled, official `round_repeats`), width
× β^φ (stage filters by the official `round_filters`, multiples of the arch's divisor), input
resolution × γ^φ rounded to the nearest multiple of RESOLUTION_MULTIPLE = 8 pixels (keeps the
stride-8 feature map a whole number of pixels; detectors pick their own input size).
Multipliers compose with the base's own (a B1 base scaled by φ multiplies B1's width/depth).
Multipliers are rounded to 6 decimals (depth downwards) so that e.g. 1.1^1 stays 1.1 in JSON.

Floors for negative φ: width multiplier ≥ WIDTH_FLOOR = 0.25 (MobileNet's smallest), resolution
≥ SCALED_RESOLUTION_FLOOR = 64 px (a 2×2 map at stride 32), depth multiplier ≥ 1 / (largest base repeats)
(every stage down to 1 layer), every stage ≥ one divisor of filters (official rounding).
φ = 0 returns the base unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from search_spaces import Arch, InputError
from search_spaces.bounds import MAX_MULTIPLIER, MAX_PHI, MAX_RESOLUTION

from .coefficients import TOLERANCE, Coefficients, as_coefficients

RESOLUTION_MULTIPLE = 8
# compound scaling never rounds a resolution below this (a 2x2 map at stride 32) unless the base is
# already smaller; any architecture itself may be as small as search_spaces.bounds.MIN_RESOLUTION
SCALED_RESOLUTION_FLOOR = 64
WIDTH_FLOOR = 0.25
DECIMALS = 6


def round_resolution(pixels: float, multiple: int = RESOLUTION_MULTIPLE, floor: int = SCALED_RESOLUTION_FLOOR) -> int:
    """Nearest multiple of `multiple` (halves up), clamped to [floor, MAX_RESOLUTION]."""
    rounded = int(math.floor(pixels / multiple + 0.5)) * multiple
    return min(MAX_RESOLUTION, max(floor, rounded))


def compound_multipliers(phi: float, coefficients: Coefficients) -> tuple[float, float, float]:
    """(depth, width, resolution) growth factors α^φ, β^φ, γ^φ (unrounded, before floors)."""
    return coefficients.alpha ** phi, coefficients.beta ** phi, coefficients.gamma ** phi


def _check_phi(phi: float) -> float:
    if isinstance(phi, bool) or not isinstance(phi, int | float) or not math.isfinite(phi):
        raise InputError(f"phi must be a finite number, got {phi!r}")
    if abs(phi) > MAX_PHI:
        raise InputError(f"phi must be within [-{MAX_PHI:g}, {MAX_PHI:g}], got {phi:g}")
    return float(phi)


def scale(arch: Arch, width: float = 1.0, depth: float = 1.0, resolution: float = 1.0,
          name: str | None = None) -> Arch:
    """Explicit multipliers relative to `arch` (width, depth, resolution factor), with the floors.

    `resolution` is a factor (2.0 doubles the input side); the pixel count is rounded to a
    multiple of 8. All three equal to 1 returns `arch` unchanged. Per-stage pins are dropped.
    """
    for label, value in (("width", width), ("depth", depth), ("resolution", resolution)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise InputError(f"{label} multiplier must be a positive number, got {value!r}")
    if width == 1.0 and depth == 1.0 and resolution == 1.0:
        return arch
    new_width = round(max(arch.width * width, min(WIDTH_FLOOR, arch.width)), DECIMALS)
    # depth rounds *down* at 6 decimals so an exact r·d = n never ceils to n + 1 through float noise
    depth_floor = min(arch.depth, 1.0 / max(block.repeats for block in arch.blocks))
    new_depth = math.floor(max(arch.depth * depth, depth_floor) * 10 ** DECIMALS + 1e-3) / 10 ** DECIMALS
    pixels = arch.resolution * resolution
    if pixels > MAX_RESOLUTION + RESOLUTION_MULTIPLE / 2:
        raise InputError(f"scaled resolution {pixels:.0f} px exceeds the maximum {MAX_RESOLUTION}")
    floor = min(SCALED_RESOLUTION_FLOOR, arch.resolution)
    new_resolution = arch.resolution if resolution == 1.0 else round_resolution(pixels, floor=floor)
    if new_width > MAX_MULTIPLIER or new_depth > MAX_MULTIPLIER or new_depth <= 0:
        raise InputError(f"scaled multipliers out of range (width {new_width:g}, depth {new_depth:g})")
    scaled = arch.scaled(width=new_width, depth=new_depth, resolution=new_resolution)
    return scaled.with_(name=name) if name else scaled


def last_valid(make: Callable[[float], Arch], valid: float, invalid: float, precision: float = 1e-6) -> float:
    """The value nearest `invalid` for which `make` builds an Arch within the bounds (search_spaces.bounds).

    `make(valid)` must succeed; validity must be monotone between the two (bigger multipliers only
    break bounds). Returns `invalid` itself when `make(invalid)` succeeds.
    """
    def ok(value: float) -> bool:
        try:
            make(value)
        except InputError:
            return False
        return True

    if ok(invalid):
        return invalid
    while abs(invalid - valid) > precision:
        middle = 0.5 * (valid + invalid)
        valid, invalid = (middle, invalid) if ok(middle) else (valid, middle)
    return valid


def compound_scale(arch: Arch, phi: float, alpha: float = 1.2, beta: float = 1.1, gamma: float = 1.15, *,
                   coefficients: Coefficients | None = None, allow_any: bool = False,
                   tolerance: float = TOLERANCE) -> Arch:
    """`arch` scaled by φ: depth α^φ, width β^φ, resolution γ^φ (EfficientNet eq. 3).

    Fractional and negative φ are allowed (see the floors in the module docstring); φ = 0
    returns `arch` itself. Coefficients violating α·β²·γ² ≈ 2 (α, β, γ ≥ 1) raise InputError
    unless `allow_any`.
    """
    phi = _check_phi(phi)
    coefficients = as_coefficients(coefficients or (alpha, beta, gamma)).check(allow_any, tolerance)
    if phi == 0:
        return arch
    depth, width, resolution = compound_multipliers(phi, coefficients)
    suffix = f"{phi:+g}".replace("+", "")
    return scale(arch, width=width, depth=depth, resolution=resolution, name=f"{arch.name}@phi{suffix}")
