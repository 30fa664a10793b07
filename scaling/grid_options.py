"""Step 1's options, declared once (EfficientNet §3.3: a small grid search of α, β, γ at φ = 1).

`effnas grid`'s flags, JOB.toml's ``[grid]`` section (effnas.jobs: a view of this record) and
:func:`scaling.grid.run_grid`'s keywords take their defaults and bounds from :class:`GridOptions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nas.runners.schedulers import SCHEDULERS
from search_spaces import InputError
from search_spaces.schema import spec

from .coefficients import TOLERANCE


def _positive(value: Any, what: str) -> None:
    if not value > 0:
        raise InputError(f"{what} must be positive, got {value!r}")


def _levels(values: Any, what: str) -> None:
    if not all(isinstance(x, int | float) and not isinstance(x, bool) and x > 1 for x in values):
        raise InputError(f"{what} must be MACs multiples > 1, got {list(values)!r}")


@dataclass(frozen=True)
class GridOptions:
    """The grid: α, β, γ ≥ 1 in steps of `step` with |α·β²·γ² − 2| ≤ `tolerance`, each scaled to `phi`;
    beside it depth-, width- and resolution-only scaling at `levels` × the base's MACs
    (`single_dimension`); `match_macs`: each triple's member nearest 2^φ × the base's MACs;
    `scale_proxy_resolution`: the proxy trains each candidate at a resolution scaled like its own;
    a trial `scheduler` (asha, hyperband) with its options stops poor candidates early."""

    phi: int | float = spec(1.0, check=_positive)
    step: int | float = spec(0.05, check=_positive)
    tolerance: int | float = TOLERANCE
    levels: tuple[float, ...] = spec((2.0, 4.0), check=_levels)
    single_dimension: bool = True
    match_macs: bool = False
    scale_proxy_resolution: bool = True
    scheduler: str | None = spec(None, choices=SCHEDULERS)
    scheduler_options: dict | None = None  # grace_period, reduction_factor, brackets
