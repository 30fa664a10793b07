"""Helpers shared by the evaluators: config parsing, thread control, seeded model building."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from search_spaces import Arch, InputError


def option(config: Mapping[str, Any], key: str, default: Any, kind: type, low: float | None = None,
           high: float | None = None, choices: tuple | None = None) -> Any:
    """config[key] (or default) converted to `kind`, range/choice checked; InputError on bad values."""
    value = config.get(key, default)
    if value is None:
        return None
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise InputError(f"evaluator option {key!r} must be {kind.__name__}, got {value!r}") from None
    if choices is not None and value not in choices:
        raise InputError(f"evaluator option {key!r} must be one of {', '.join(map(str, choices))}, got {value!r}")
    if low is not None and value < low or high is not None and value > high:
        raise InputError(f"evaluator option {key!r} must be in [{low}, {high}], got {value!r}")
    return value


@dataclass(frozen=True)
class Option:
    """One evaluator option: its default, type, range and choices (declared once, in a table)."""

    default: Any
    kind: type
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None


def read_options(config: Mapping[str, Any], table: Mapping[str, Option]) -> dict[str, Any]:
    """Every option of `table` read from `config` (missing -> default), checked; InputError on bad
    values or on unknown keys."""
    unknown = sorted(set(config) - set(table))
    if unknown:
        raise InputError(f"unknown evaluator option(s) {', '.join(map(repr, unknown))}; known: {', '.join(table)}")
    values = {}
    for key, spec in table.items():
        if spec.kind is bool:
            value = config.get(key, spec.default)
            if value is not None and not isinstance(value, bool):
                raise InputError(f"evaluator option {key!r} must be true or false, got {value!r}")
            values[key] = value
        else:
            values[key] = option(config, key, spec.default, spec.kind, spec.low, spec.high, spec.choices)
    return values


def set_threads(config: Mapping[str, Any]) -> int:
    """Set torch's intra-op threads from config["threads"] (default: leave as is); returns the count."""
    threads = option(config, "threads", None, int, 1, 1024)
    if threads is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def build_seeded(arch: Arch, num_classes: int, seed: int) -> torch.nn.Module:
    """Build `arch` with `num_classes` outputs, weights initialised from torch seed `seed`."""
    if arch.num_classes != num_classes:
        arch = arch.with_(num_classes=num_classes)
    torch.manual_seed(seed)
    return arch.build()
