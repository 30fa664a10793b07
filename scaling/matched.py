"""Single-dimension scaling at matched MACs: depth only, width only or resolution only.

EfficientNet's Observation 1/2 (paper Fig. 3 and 8) compares scaling one dimension against
compound scaling at the same MACs. For a MACs level L, each rule finds its own multiplier by
bisection on the analytic cost (MACs are non-decreasing step functions of each multiplier) and
takes whichever bracketing member is closer to L; the reported MACs are the member's own.
"""

from __future__ import annotations

import math

from search_spaces import Arch, InputError
from search_spaces.bounds import MAX_RESOLUTION

from .scale import RESOLUTION_MULTIPLE, last_valid, scale

RULES = ("depth", "width", "resolution")


def _closest(base: Arch, rule: str, target: float, low: float, high: float) -> Arch:
    def member(m: float) -> Arch:
        return scale(base, **{rule: m}, name=f"{base.name}-{rule}x{m:.4g}")

    high = last_valid(member, low, high)  # the largest multiplier within search_spaces.bounds
    if member(high).cost().macs < target:
        raise InputError(f"{rule}-only scaling of {base.name} cannot reach {target:.3g} MACs "
                         "within the bounds of docs/BOUNDS.md")
    for _ in range(60):
        middle = 0.5 * (low + high)
        if member(middle).cost().macs >= target:
            high = middle
        else:
            low = middle
        if high - low < 1e-5:
            break
    below, above = member(low), member(high)
    return min((below, above), key=lambda a: abs(a.cost().macs - target))


def single_dimension(base: Arch, rule: str, target_macs: float) -> Arch:
    """`base` scaled along `rule` alone ('depth' | 'width' | 'resolution') to about `target_macs`."""
    if rule not in RULES:
        raise InputError(f"scaling rule must be one of {', '.join(RULES)}, got {rule!r}")
    base = base.scaled()
    macs = base.cost().macs
    if target_macs <= macs:
        raise InputError(f"matched-MACs level {target_macs:.3g} must exceed the base's {macs:.3g} MACs")
    if rule == "resolution":
        ratio = math.sqrt(target_macs / macs)
        pixels = []
        for r in (math.floor(base.resolution * ratio / RESOLUTION_MULTIPLE),
                  math.ceil(base.resolution * ratio / RESOLUTION_MULTIPLE)):
            r = min(MAX_RESOLUTION, r * RESOLUTION_MULTIPLE)
            pixels.append(base.with_(resolution=r, name=f"{base.name}-resolution{r}"))
        return min(pixels, key=lambda a: abs(a.cost().macs - target_macs))
    ratio = target_macs / macs
    high = 2 * ratio if rule == "depth" else 2 * math.sqrt(ratio) + 1
    return _closest(base, rule, target_macs, 1.0, high)
