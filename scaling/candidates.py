"""The grid's candidate record and its ledger keys: what `scaling.grid` evaluates and
`scaling.grid_report` tabulates (its own module, so neither of those imports the other)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from search_spaces import Arch

from .coefficients import Coefficients


@dataclass(frozen=True)
class Candidate:
    """One network to evaluate. rule: base | compound | depth | width | resolution."""

    key: str
    rule: str
    arch: Arch
    coefficients: Coefficients | None = None
    level: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def compound_key(c: Coefficients) -> str:
    return f"compound-a{c.alpha:.3f}-b{c.beta:.3f}-g{c.gamma:.3f}"


def level_key(rule: str, level: float) -> str:
    return f"{rule}-x{level:g}"
