"""What an evaluation reports while it runs: the third argument of every evaluator.

``evaluate(arch, config, reporter)``: `reporter.step(done, total)` after each training step (the
`effnas evaluate` command's progress line), `reporter.epoch(result)` after each epoch but the last
with the result so far (evaluate's keys plus "epoch": 1, 2, ...), only after the epochs in
`reporter.at` when that is given (a trial scheduler's rungs: it decides nowhere else, and each
report costs a held-out pass). An exception raised by either ends the evaluation (a scheduler
stopping its trial). An evaluator reports per epoch when its module also has ``epochs(config)``:
how many results an evaluation makes (the last is its return value). ``SILENT`` reports nothing
and costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reporter:
    """Callbacks of one evaluation (None: not wanted)."""

    step: Callable[[int, int], None] | None = None  # (steps done, total steps)
    epoch: Callable[[dict[str, Any]], None] | None = None  # the result after an epoch but the last
    at: frozenset[int] | None = None  # the epochs to call `epoch` after (None: every one)

    @classmethod
    def epochs(cls, callback: Callable[[dict[str, Any]], None], at: Collection[int] | None = None) -> Reporter:
        """A reporter of per-epoch results (after the epochs in `at` only, when given)."""
        return cls(epoch=callback, at=None if at is None else frozenset(int(e) for e in at))

    def wants(self, epoch: int) -> bool:
        """Whether `epoch`'s result is to be reported."""
        return self.epoch is not None and (self.at is None or epoch in self.at)


SILENT = Reporter()
