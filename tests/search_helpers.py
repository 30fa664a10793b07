"""Test doubles for the search driver's tests (NOT a search evaluator: a cheap deterministic
function of the architecture, so ledger/resume/strategy plumbing can be tested in milliseconds;
the real evaluators are exercised by tests/test_search_cli.py and tests/test_ray_*.py)."""

from __future__ import annotations

import os
import time

from nas.evaluators import EVALUATORS, register


def cheap_metric(arch, config):
    """A deterministic stand-in metric: more layers and filters score higher, with a tiny sleep."""
    time.sleep(float(config.get("sleep", 0.0)))
    cost = arch.cost()
    layers = sum(b.repeats for b in arch.blocks)
    return {"metric": 0.5 + 0.01 * layers + cost.params / 2e8, "evaluator": "test-cheap", "pid": os.getpid()}


def install() -> str:
    if "test-cheap" not in EVALUATORS:
        register("test-cheap", "search_helpers:cheap_metric")
    return "test-cheap"
