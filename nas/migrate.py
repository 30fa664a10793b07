"""Run folders across versions and resumes, in one place.

Each kind of run folder declares a :class:`RunFormat`: what a ``config.json`` written before a key
existed ran with (`legacy`: such a run reads as if it had that value), and on which keys a resumed
run must equal the run it continues — every key but the `free` ones (how it runs, not what it
computes), or exactly the `compared` ones. `differences` names the keys that differ; each caller
words its own refusal (a search, a grid, a training run).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def canonical_equal(a: Any, b: Any) -> bool:
    """Equal as JSON (a tuple equals the list it is written as; key order does not count)."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


@dataclass(frozen=True)
class RunFormat:
    """One run folder's config: its legacy defaults and its resume rule."""

    name: str
    legacy: Mapping[str, Any] = field(default_factory=dict)
    free: tuple[str, ...] = ()
    compared: tuple[str, ...] | None = None  # None: every key but `free`
    equal: Callable[[Any, Any], bool] = operator.eq

    def upgrade(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """`stored` with the keys it predates filled in with what such runs did."""
        return {**self.legacy, **stored}

    def differences(self, stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
        """The keys (sorted) on which `current` is another run than `stored`; a key absent from
        either reads as its legacy value, else None."""
        keys = self.compared if self.compared is not None else sorted(set(stored) | set(current), key=str)
        return [key for key in keys if key not in self.free
                and not self.equal(stored.get(key, self.legacy.get(key)), current.get(key, self.legacy.get(key)))]


# A search (nas.search): runs before synchronous generations were asynchronous, before bands and
# schedulers had none; a resume may change its budget and where its trials run.
SEARCH = RunFormat("search", legacy={"synchronous": False, "generation": None, "band": None, "scheduler": None,
                                     "scheduler_options": {}},
                   free=("trials", "runner", "max_concurrent", "cpus_per_trial", "gpus_per_trial"))
# A step-1 grid (scaling.grid): what it evaluates; match_macs and the scheduler came later.
GRID = RunFormat("grid", legacy={"match_macs": False, "scheduler": None, "scheduler_options": None},
                 compared=("base", "phi", "evaluator", "config", "scale_proxy_resolution", "match_macs", "scheduler",
                           "scheduler_options"))
# A training run (nas.training): its identity (arch as trained, recipe, resolution), compared as JSON,
# then its options one by one (an option an older run predates reads as None, its default).
TRAIN = RunFormat("train", compared=("arch", "recipe", "resolution"), equal=canonical_equal)
TRAIN_OPTIONS = RunFormat("train options")
# options that may differ between a training run and its resume (they do not change what is trained)
TRAIN_FREE = ("device", "threads", "loader_workers")
