"""The inline runner: trials one after another in this process (no Ray). For tests and debugging.

A trial scheduler (`scheduler`, nas.runners.schedulers.Scheduling) is emulated, not refused: the same Ray
Tune scheduler object is called as Tune's controller calls it (nas.runners.schedulers.Referee), so an
inline search stops the trials a one-worker Ray search stops, and writes the same ledger."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from search_spaces import Arch

from ..threads import trial_threads
from .schedulers import Referee, Scheduling
from .trial import evaluate_trial

Source = Callable[[], "tuple[str, Arch] | None"]


def run_inline(source: Source, on_result: Callable[[dict[str, Any]], None], evaluator: str,
               config: Mapping[str, Any], cpus_per_trial: float = 1.0, scheduler: Scheduling | None = None,
               **_: Any) -> list[str]:
    """Evaluate `source()`'s candidates until it returns None; returns the keys that failed (none:
    an exception in the evaluator propagates, as a debugger wants). Each trial runs with the torch
    threads a Ray trial of `cpus_per_trial` CPUs would have, so its metric is the same. `scheduler`:
    stop trials early as it decides (its history replayed first)."""
    referee = Referee(scheduler.build()) if scheduler is not None else None
    rungs = scheduler.rung_epochs() if scheduler is not None else None
    while (item := source()) is not None:
        key, arch = item
        threads = trial_threads(cpus_per_trial)
        if referee is None:
            on_result(evaluate_trial(key, arch.to_dict(), evaluator, config, threads=threads))
            continue
        on_result(referee.run(key, lambda on_epoch, key=key, arch=arch, threads=threads: evaluate_trial(
            key, arch.to_dict(), evaluator, config, threads=threads, on_epoch=on_epoch, report_at=rungs)))
    return []
