"""One trial: build the Arch, measure its cost, call the evaluator, time it. Runs in any process
(inline driver or a Ray worker), so it lives in the installed package and takes plain JSON data.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from typing import Any

from search_spaces import Arch

from ..evaluators import get_evaluator
from ..threads import torch_threads

RESERVED = ("trial", "arch", "params", "macs", "metric", "reward", "seconds", "worker")


def evaluate_trial(key: str, arch: Mapping[str, Any], evaluator: str, config: Mapping[str, Any],
                   threads: int | None = None) -> dict[str, Any]:
    """Row of a finished trial: trial, arch (JSON dict), params, macs (full resolution), metric,
    seconds (wall time of the evaluation), worker (host:pid), evaluator and its details. `threads`:
    torch threads of the evaluation (the runners pass `trial_threads(cpus_per_trial)`, so a metric
    does not depend on where it ran); None leaves them as they are."""
    start = time.perf_counter()
    model = Arch.from_dict(dict(arch))
    cost = model.cost()
    with torch_threads(threads):
        result = get_evaluator(evaluator)(model, dict(config))
    seconds = time.perf_counter() - start
    row: dict[str, Any] = {"trial": key, "arch": model.to_dict(), "params": int(cost.params), "macs": int(cost.macs),
                           "metric": float(result["metric"]), "seconds": round(seconds, 4),
                           "worker": f"{socket.gethostname()}:{os.getpid()}", "evaluator": evaluator}
    details = {k: v for k, v in result.items() if k not in RESERVED and k != "evaluator"}
    if "seconds" in result:
        details["evaluator_seconds"] = result["seconds"]
    row["details"] = details
    return row


def tune_trainable(config: dict[str, Any]) -> None:
    """Ray Tune function trainable: evaluate one candidate and `tune.report` its row (as JSON)."""
    import json

    from ray import tune

    row = evaluate_trial(config["key"], config["arch"], config["evaluator"], config["config"],
                         threads=int(config.get("threads", 1)))
    tune.report({"metric": row["metric"], "row": json.dumps(row)})
