"""Test doubles for the search driver's tests (NOT a search evaluator: a cheap deterministic
function of the architecture, so ledger/resume/strategy plumbing can be tested in milliseconds;
the real evaluators are exercised by tests/test_search_cli.py and tests/test_ray_*.py)."""

from __future__ import annotations

import os
import time

from nas.evaluators import EVALUATORS, register
from nas.ledger import Ledger

TIMING = ("seconds", "worker")  # row fields that differ between identical runs
TIMING_DETAILS = ("seconds", "evaluator_seconds", "cpu_seconds", "train_seconds", "pid", "epoch_eval_seconds")


def cheap_metric(arch, config, reporter=None):
    """A deterministic stand-in metric: more layers and filters score higher, with a tiny sleep."""
    time.sleep(float(config.get("sleep", 0.0)))
    cost = arch.cost()
    layers = sum(b.repeats for b in arch.blocks)
    return {"metric": 0.5 + 0.01 * layers + cost.params / 2e8, "evaluator": "test-cheap", "pid": os.getpid()}


def install() -> str:
    if "test-cheap" not in EVALUATORS:
        register("test-cheap", "search_helpers:cheap_metric")
    return "test-cheap"


def content(out) -> list[dict]:
    """The ledger in `out` without its timing fields (what must be identical between runs)."""
    rows = []
    for row in Ledger(out).read():
        row = {k: v for k, v in row.items() if k not in TIMING}
        row["details"] = {k: v for k, v in row.get("details", {}).items() if k not in TIMING_DETAILS}
        rows.append(row)
    return rows
