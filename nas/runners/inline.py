"""The inline runner: trials one after another in this process (no Ray). For tests and debugging."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from search_spaces import Arch

from ..threads import trial_threads
from .trial import evaluate_trial

Source = Callable[[], "tuple[str, Arch] | None"]


def run_inline(source: Source, on_result: Callable[[dict[str, Any]], None], evaluator: str,
               config: Mapping[str, Any], cpus_per_trial: float = 1.0, **_: Any) -> list[str]:
    """Evaluate `source()`'s candidates until it returns None; returns the keys that failed (none:
    an exception in the evaluator propagates, as a debugger wants). Each trial runs with the torch
    threads a Ray trial of `cpus_per_trial` CPUs would have, so its metric is the same."""
    while (item := source()) is not None:
        key, arch = item
        on_result(evaluate_trial(key, arch.to_dict(), evaluator, config, threads=trial_threads(cpus_per_trial)))
    return []
