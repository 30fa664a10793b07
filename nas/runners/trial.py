"""One trial: build the Arch, measure its cost, call the evaluator, time it. Runs in any process
(inline driver or a Ray worker), so it lives in the installed package and takes plain JSON data.

Under a trial scheduler (nas.runners.schedulers) an evaluator that reports per epoch gives the row
after each of the scheduler's rung epochs (`on_epoch`, `report_at`); rows then add "stopped",
"epochs", "epoch_metrics" and "metric_epochs" (the epochs those metrics were measured after).
"""

from __future__ import annotations

import importlib
import os
import socket
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from search_spaces import Arch, InputError

from ..evaluators import EVALUATORS, get_evaluator
from ..evaluators.reporter import SILENT, Reporter
from ..threads import torch_threads

RESERVED = ("trial", "arch", "params", "macs", "metric", "reward", "seconds", "worker")
OnEpoch = Callable[[dict[str, Any]], None]


def _row(key: str, model: Arch, cost: Any, result: Mapping[str, Any], seconds: float,
         evaluator: str) -> dict[str, Any]:
    row: dict[str, Any] = {"trial": key, "arch": model.to_dict(), "params": int(cost.params), "macs": int(cost.macs),
                           "metric": float(result["metric"]), "seconds": round(seconds, 4),
                           "worker": f"{socket.gethostname()}:{os.getpid()}", "evaluator": evaluator}
    details = {k: v for k, v in result.items() if k not in RESERVED and k not in ("evaluator", "epoch")}
    if "seconds" in result:
        details["evaluator_seconds"] = result["seconds"]
    row["details"] = details
    return row


def epoch_module(evaluator: str) -> Any | None:
    """The module of `evaluator` when it reports per epoch (has ``epochs(config)``), else None."""
    get_evaluator(evaluator)
    module = importlib.import_module(EVALUATORS[evaluator].split(":")[0])
    return module if callable(getattr(module, "epochs", None)) else None


def evaluate_trial(key: str, arch: Mapping[str, Any], evaluator: str, config: Mapping[str, Any],
                   threads: int | None = None, on_epoch: OnEpoch | None = None,
                   report_at: Collection[int] | None = None) -> dict[str, Any]:
    """Row of a finished trial: trial, arch (JSON dict), params, macs (full resolution), metric,
    seconds (wall time of the evaluation), worker (host:pid), evaluator and its details. `threads`:
    torch threads of the evaluation (the runners pass `trial_threads(cpus_per_trial)`, so a metric
    does not depend on where it ran); None leaves them as they are. `on_epoch(row)`: called after
    each epoch but the last with the row the trial would have if it stopped there (a trial
    scheduler is on; the evaluator must report per epoch) — only after the epochs in `report_at` when
    given (the scheduler's rungs: it decides nowhere else, and each report costs a held-out
    evaluation); an exception it raises ends the trial."""
    start = time.perf_counter()
    model = Arch.from_dict(dict(arch))
    cost = model.cost()
    if on_epoch is None:
        with torch_threads(threads):
            result = get_evaluator(evaluator)(model, dict(config), SILENT)
        return _row(key, model, cost, result, time.perf_counter() - start, evaluator)
    module = epoch_module(evaluator)
    if module is None:
        raise InputError(f"evaluator {evaluator} does not report per epoch, so no trial scheduler can stop it")
    metrics: list[float] = []
    measured: list[int] = []

    def report(partial: dict[str, Any]) -> None:
        metrics.append(float(partial["metric"]))
        measured.append(int(partial["epoch"]))
        row = _row(key, model, cost, partial, time.perf_counter() - start, evaluator)
        on_epoch({**row, "stopped": True, "epochs": measured[-1], "epoch_metrics": list(metrics),
                  "metric_epochs": list(measured)})

    with torch_threads(threads):
        result = get_evaluator(evaluator)(model, dict(config), Reporter.epochs(report, report_at))
    metrics.append(float(result["metric"]))
    measured.append(int(module.epochs(config)))
    row = _row(key, model, cost, result, time.perf_counter() - start, evaluator)
    return {**row, "stopped": False, "epochs": measured[-1], "epoch_metrics": metrics, "metric_epochs": measured}


def tune_trainable(config: dict[str, Any]) -> None:
    """Ray Tune function trainable: evaluate one candidate and `tune.report` its row (as JSON). Under
    a trial scheduler ("report_epochs": its rung epochs), also after each of those, with "epoch" (the
    scheduler's time)."""
    import json

    from ray import tune

    if config.get("report_epochs") is not None:
        def report(row: dict[str, Any]) -> None:
            tune.report({"metric": row["metric"], "epoch": row["epochs"], "row": json.dumps(row)})

        row = evaluate_trial(config["key"], config["arch"], config["evaluator"], config["config"],
                             threads=int(config.get("threads", 1)), on_epoch=report,
                             report_at=config["report_epochs"])
        report(row)  # (max_t: the scheduler stops it here, recording its last rung)
        return
    row = evaluate_trial(config["key"], config["arch"], config["evaluator"], config["config"],
                         threads=int(config.get("threads", 1)))
    tune.report({"metric": row["metric"], "row": json.dumps(row)})
