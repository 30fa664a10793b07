"""Evaluators: plain functions (arch, config) -> metrics, shared by search and grid search.

An evaluator is any callable ``evaluate(arch: Arch, config: Mapping[str, Any], reporter: Reporter)
-> dict`` (the reporter: nas.evaluators.reporter, how it reports steps and epochs while it runs) that
returns at least ``"metric"`` (float, higher is better — e.g. held-out accuracy in [0, 1]) and
``"evaluator"`` (its name); it may add details (``"proxy"``: which proxy task produced the
number, losses, timings...). Evaluators live in the installed package so Ray workers can import
them by name; the registry maps a name to ``"module:function"`` and imports lazily.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from search_spaces import Arch, InputError

from .reporter import SILENT, Reporter


class Evaluator(Protocol):
    def __call__(self, arch: Arch, config: Mapping[str, Any], reporter: Reporter = SILENT) -> dict[str, Any]: ...


# name -> "module:function"; add new evaluators here.
EVALUATORS: dict[str, str] = {}


def register(name: str, target: str) -> None:
    """Register an evaluator by import path ("package.module:function")."""
    EVALUATORS[name] = target


def get_evaluator(name: str) -> Evaluator:
    """The evaluator called `name`; unknown names raise InputError listing the known ones."""
    if name not in EVALUATORS:
        raise InputError(f"unknown evaluator {name!r}; known: {', '.join(sorted(EVALUATORS)) or 'none'}")
    module, function = EVALUATORS[name].split(":")
    return getattr(importlib.import_module(module), function)


def check_config(name: str, config: Mapping[str, Any]) -> None:
    """Check `config` against evaluator `name`'s options record (its module's ``OPTIONS``) without
    evaluating anything: unknown keys and bad values raise InputError before any data is loaded."""
    from .common import read_options

    get_evaluator(name)
    record = getattr(importlib.import_module(EVALUATORS[name].split(":")[0]), "OPTIONS", None)
    if record is not None:
        read_options(config, record)


def check_data(name: str, config: Mapping[str, Any]) -> None:
    """Load the data evaluator `name` would use with `config` (its module's ``check(config)``, if it
    has one), so that unreadable data fails before a run writes anything; InputError if it cannot."""
    check_config(name, config)
    check = getattr(importlib.import_module(EVALUATORS[name].split(":")[0]), "check", None)
    if callable(check):
        check(config)


register("zero-cost", "nas.evaluators.zero_cost:evaluate")
register("naswot", "nas.evaluators.zero_cost:naswot")
register("synflow", "nas.evaluators.zero_cost:synflow")
register("proxy", "nas.evaluators.proxy:evaluate")
