"""Compound-scaling coefficients α, β, γ and the constraint α·β²·γ² ≈ 2 (EfficientNet eq. 3).

Depth grows by α^φ, width by β^φ and resolution by γ^φ. MACs grow with depth, with the square
of width and with the square of resolution, so α·β²·γ² = 2 makes MACs grow by ≈ 2^φ.

Constraint as checked here: α, β, γ ≥ 1 exactly, and |α·β²·γ² − 2| ≤ `tolerance` with a default
tolerance of 0.1 (the band [1.9, 2.1], ±5%). The paper's own α = 1.2, β = 1.1, γ = 1.15 give
1.2·1.1²·1.15² = 1.920 and pass. Violators are refused (InputError) unless `allow_any=True`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from search_spaces import InputError
from search_spaces.bounds import MAX_COEFFICIENT, MIN_COEFFICIENT, check_number
from search_spaces.readers import read_json_file

TARGET_PRODUCT = 2.0
TOLERANCE = 0.1
COEFFICIENTS_SCHEMA = "effnas.coefficients/1"


@dataclass(frozen=True)
class Coefficients:
    """α (depth), β (width), γ (resolution): per-unit-φ growth factors of each dimension."""

    alpha: float = 1.2
    beta: float = 1.1
    gamma: float = 1.15

    def __post_init__(self) -> None:
        for label in ("alpha", "beta", "gamma"):
            value = check_number(getattr(self, label), f"coefficient {label}", MIN_COEFFICIENT, MAX_COEFFICIENT)
            object.__setattr__(self, label, value)

    @property
    def product(self) -> float:
        """α·β²·γ²: the MACs growth per unit of φ (≈ 2 when the constraint holds)."""
        return self.alpha * self.beta ** 2 * self.gamma ** 2

    def violation(self, tolerance: float = TOLERANCE) -> str | None:
        """Why these coefficients break the constraint, or None if they satisfy it."""
        low = [f"{k}={v:g}" for k, v in self.as_dict().items() if v < 1.0]
        if low:
            return f"coefficients must all be >= 1 ({', '.join(low)})"
        if abs(self.product - TARGET_PRODUCT) > tolerance + 1e-9:  # boundary inclusive despite float noise
            return (f"alpha*beta^2*gamma^2 = {self.product:.4g} is not within {tolerance:g} of "
                    f"{TARGET_PRODUCT:g} (alpha={self.alpha:g}, beta={self.beta:g}, gamma={self.gamma:g})")
        return None

    def satisfies(self, tolerance: float = TOLERANCE) -> bool:
        return self.violation(tolerance) is None

    def check(self, allow_any: bool = False, tolerance: float = TOLERANCE) -> Coefficients:
        """Return self, or raise InputError naming the violation (unless `allow_any`)."""
        reason = self.violation(tolerance)
        if reason and not allow_any:
            raise InputError(f"{reason}; pass --allow-any-coefficients to use them anyway")
        return self

    def as_dict(self) -> dict[str, float]:
        return {"alpha": self.alpha, "beta": self.beta, "gamma": self.gamma}


PAPER = Coefficients(1.2, 1.1, 1.15)


def as_coefficients(value: Coefficients | dict | tuple | list | str | None) -> Coefficients:
    """Coefficients from a Coefficients, a dict, an (α, β, γ) sequence, "a,b,g" text, or None (paper)."""
    if value is None:
        return PAPER
    if isinstance(value, Coefficients):
        return value
    if isinstance(value, str):
        return parse_coefficients(value)
    if isinstance(value, dict):
        missing = [k for k in ("alpha", "beta", "gamma") if k not in value]
        if missing:
            raise InputError(f"coefficients need alpha, beta and gamma; missing {', '.join(missing)}")
        return Coefficients(value["alpha"], value["beta"], value["gamma"])
    if isinstance(value, tuple | list) and len(value) == 3:
        return Coefficients(*value)
    raise InputError(f"cannot read coefficients from {value!r}")


def parse_coefficients(text: str) -> Coefficients:
    """ "1.2,1.1,1.15" → Coefficients(α=1.2, β=1.1, γ=1.15)."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 3:
        raise InputError(f"coefficients must be three numbers 'alpha,beta,gamma', got {text!r}")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"coefficients must be three numbers 'alpha,beta,gamma', got {text!r}") from None
    return Coefficients(*values)


def coefficients_record(coefficients: Coefficients, **extra: Any) -> dict[str, Any]:
    """The coefficients.json object written by the grid search."""
    return {"schema": COEFFICIENTS_SCHEMA, **coefficients.as_dict(), "product": coefficients.product, **extra}


def load_coefficients(path: str | os.PathLike) -> Coefficients:
    """Read α, β, γ from a grid search's coefficients.json (or any JSON with those keys)."""
    data = read_json_file(path, "coefficients")
    if not isinstance(data, dict):
        raise InputError(f"coefficients file {str(path)!r} must hold a JSON object")
    schema = data.get("schema", COEFFICIENTS_SCHEMA)
    if schema != COEFFICIENTS_SCHEMA:
        raise InputError(f"coefficients file {str(path)!r} has schema {schema!r}, expected {COEFFICIENTS_SCHEMA!r}")
    return as_coefficients({k: data.get(k) for k in ("alpha", "beta", "gamma") if k in data})
