"""Helpers shared by the evaluators: option reading (search_spaces.schema), thread control, seeded model building."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from search_spaces import Arch
from search_spaces.bounds import within  # noqa: F401  (the evaluators' bound checker, re-exported)
from search_spaces.schema import Style, python_names, read

# How evaluator options are worded: values typed on a command line are converted (int("3")), bools strict.
STYLE = Style(name="evaluator option {key!r}",
              unknown="unknown evaluator option(s) {listed}; known: {known}",
              type_names=lambda field: "true or false" if bool in field.types else python_names(field), coerce=True)


def read_options(config: Mapping[str, Any], record: type) -> dict[str, Any]:
    """Every option of an evaluator's options record (its module's ``OPTIONS``, a dataclass) read from
    `config` (missing -> its default), checked; InputError on bad values or on unknown keys."""
    return read(record, config, "", STYLE)


def set_threads(threads: int | None) -> int:
    """Set torch's intra-op threads (None: leave as is); returns the count."""
    if threads is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def build_seeded(arch: Arch, num_classes: int, seed: int) -> torch.nn.Module:
    """Build `arch` with `num_classes` outputs, weights initialised from torch seed `seed`."""
    if arch.num_classes != num_classes:
        arch = arch.with_(num_classes=num_classes)
    torch.manual_seed(seed)
    return arch.build()
