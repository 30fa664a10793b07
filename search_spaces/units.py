"""Human sizes: "400M", "1.8G", "2.5e9" → integers (MACs, params), and back."""

from __future__ import annotations

import math
import re

from .bounds import MAX_SIZE
from .errors import InputError

_SUFFIX = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9, "T": 1e12}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGbBtT]?)\s*$")


def parse_size(text: str | int | float, what: str = "size") -> int:
    """Parse a positive size with an optional K/M/G/T suffix (B = billion)."""
    if isinstance(text, bool):
        raise InputError(f"{what} must be a number like 400M or 1.8G, got {text!r}")
    if isinstance(text, int | float):
        value = float(text)
    else:
        match = _SIZE.match(str(text))
        if not match:
            raise InputError(f"{what} must be a number like 400M, 1.8G or 2.5e9, got {text!r}")
        value = float(match.group(1)) * _SUFFIX[match.group(2).upper()]
    if math.isnan(value):
        raise InputError(f"{what} must be a number like 400M, 1.8G or 2.5e9, got {text!r}")
    if value <= 0:
        raise InputError(f"{what} must be positive, got {text!r}")
    if value > MAX_SIZE:
        raise InputError(f"{what} {text!r} is too large: at most {MAX_SIZE // 10**12}T ({MAX_SIZE:.0e})")
    return int(round(value))


def parse_sizes(text: str, what: str = "size") -> list[int]:
    """Comma-separated sizes: "150M,600M,3G"."""
    parts = [p for p in str(text).split(",") if p.strip()]
    if not parts:
        raise InputError(f"no {what} given")
    return [parse_size(p, what) for p in parts]


def format_size(value: float, digits: int = 3) -> str:
    """410_000_000 → "410M"; 1_830_000_000 → "1.83G"; 999_900_000 → "1G"."""
    value = float(f"{value:.{digits}g}")
    for suffix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g}{suffix}"
    return f"{value:.{digits}g}"
