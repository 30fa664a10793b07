"""Lazily imported public names of a package (one home for the rule): the package's ``__getattr__``
imports the module that defines a name on first use, so importing the package stays light (no
torch for configs, readers and the CLI's argument checks)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for `package`: name → the relative module (``".model"``) defining it,
    imported on first use and cached in the package's globals."""
    def __getattr__(name: str) -> Any:
        if name in table:
            value = getattr(importlib.import_module(table[name], package), name)
            setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return __getattr__
