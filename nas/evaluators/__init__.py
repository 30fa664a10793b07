"""Evaluators: plain functions (arch, config) -> metrics, shared by search and grid search.

An evaluator is any callable ``evaluate(arch: Arch, config: Mapping[str, Any]) -> dict`` that
returns at least ``"metric"`` (float, higher is better — e.g. held-out accuracy in [0, 1]) and
``"evaluator"`` (its name); it may add details (``"proxy"``: which proxy task produced the
number, losses, timings...). Evaluators live in the installed package so Ray workers can import
them by name; the registry maps a name to ``"module:function"`` and imports lazily.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from search_spaces import Arch, InputError


class Evaluator(Protocol):
    def __call__(self, arch: Arch, config: Mapping[str, Any]) -> dict[str, Any]: ...


# name -> "module:function"; add new evaluators here.
EVALUATORS: dict[str, str] = {}


def register(name: str, target: str) -> None:
    """Register an evaluator by import path ("package.module:function")."""
    EVALUATORS[name] = target


def get_evaluator(name: str) -> Callable[[Arch, Mapping[str, Any]], dict[str, Any]]:
    """The evaluator called `name`; unknown names raise InputError listing the known ones."""
    if name not in EVALUATORS:
        raise InputError(f"unknown evaluator {name!r}; known: {', '.join(sorted(EVALUATORS)) or 'none'}")
    module, function = EVALUATORS[name].split(":")
    return getattr(importlib.import_module(module), function)

register("zero-cost", "nas.evaluators.zero_cost:evaluate")
register("naswot", "nas.evaluators.zero_cost:naswot")
register("synflow", "nas.evaluators.zero_cost:synflow")
register("proxy", "nas.evaluators.proxy:evaluate")
