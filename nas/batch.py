"""Evaluate a fixed list of named candidates through the search's runners and ledger.

Used by the scaling grid search (`effnas grid`). Resumable: candidates whose key is already in
``out_dir/trials.jsonl`` are not evaluated again; each finished one is appended (and fsynced) at
once. Rows: trial (= the key), arch (Arch JSON dict), params, macs, metric, seconds, worker,
evaluator, details.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from search_spaces import Arch, InputError

from .evaluators import get_evaluator
from .ledger import Ledger
from .runners import RunnerSettings, run


def evaluate_batch(candidates: Sequence[tuple[str, Arch]], evaluator: str, config: Mapping[str, Any],
                   out_dir: str | os.PathLike, settings: RunnerSettings | None = None,
                   progress: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Rows for every candidate, in the order given (evaluating only those not yet in the ledger),
    run as `settings` say (default: inline); `progress(row)` is called as each one finishes."""
    settings = settings or RunnerSettings()
    keys = [str(key) for key, _ in candidates]
    if len(set(keys)) != len(keys):
        raise InputError("candidate keys must be unique")
    for key, arch in candidates:
        if not isinstance(arch, Arch):
            raise InputError(f"candidate {key!r} is not an Arch")
    get_evaluator(evaluator)  # unknown name -> InputError before anything runs
    ledger = Ledger(out_dir)
    done = {str(row["trial"]): row for row in ledger.read()}
    todo = [(str(key), arch) for key, arch in candidates if str(key) not in done]

    def source() -> tuple[str, Arch] | None:
        return todo.pop(0) if todo else None

    def on_result(row: dict[str, Any]) -> None:
        ledger.append(row)
        done[str(row["trial"])] = row
        if progress is not None:
            progress(row)

    failed = run(settings.runner, source, on_result, evaluator, config, **settings.run_options()) if todo else []
    if failed:
        raise RuntimeError(f"{len(failed)} candidate(s) failed after retries: {', '.join(failed)}; "
                           "finished ones are kept in the ledger, run again to retry")
    return [done[key] for key in keys]
