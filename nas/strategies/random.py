"""Random search: every token uniform over its choices (the baseline every strategy must beat)."""

from __future__ import annotations

from typing import Any

from .base import Strategy


class RandomSearch(Strategy):
    name = "random"

    def _propose(self) -> tuple[list[int], Any]:
        return [int(self.rng.integers(n)) for n in self.choices], None
