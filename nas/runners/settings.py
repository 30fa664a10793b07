"""How trials run, as one validated, frozen record (Ray Tune's TuneConfig/RunConfig are the model):
which runner, the Ray cluster to join, how many trials at once and what each reserves. Each caller
builds it once from its own input (`effnas search`'s config, a job, `effnas grid`'s flags) and
passes it down; :meth:`RunnerSettings.run_options` gives the keywords `nas.runners.run` takes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from search_spaces import InputError

if TYPE_CHECKING:
    from .schedulers import Scheduling

RUNNERS = ("inline", "ray")
DEFAULT_RUNNER = "inline"  # every command and JOB.toml: Ray only when asked for


def check_runner_name(runner: Any) -> None:
    """InputError unless `runner` names a runner (inline, ray)."""
    if runner not in RUNNERS:
        raise InputError(f"unknown runner {runner!r}; known: {', '.join(RUNNERS)}")


@dataclass(frozen=True)
class RunnerSettings:
    """`runner` inline or ray; `ray_address` (None: RAY_ADDRESS or an embedded local Ray),
    `max_concurrent` (None: the cluster's CPUs / `cpus_per_trial`) and `gpus_per_trial` apply to
    Ray; `cpus_per_trial` to both (inline: the torch threads a Ray trial of that size would get);
    `scheduler` (a nas.runners.schedulers.Scheduling, None: none) stops trials early, on both."""

    runner: str = DEFAULT_RUNNER
    ray_address: str | None = None
    max_concurrent: int | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    scheduler: Scheduling | None = None

    def __post_init__(self) -> None:
        check_runner_name(self.runner)
        if self.max_concurrent is not None and self.max_concurrent < 1:
            raise InputError(f"max concurrent trials must be >= 1, got {self.max_concurrent}")
        if not self.cpus_per_trial > 0:
            raise InputError(f"cpus per trial must be positive, got {self.cpus_per_trial}")
        if not self.gpus_per_trial >= 0:
            raise InputError(f"gpus per trial must be >= 0, got {self.gpus_per_trial}")
        object.__setattr__(self, "cpus_per_trial", float(self.cpus_per_trial))
        object.__setattr__(self, "gpus_per_trial", float(self.gpus_per_trial))

    @classmethod
    def from_config(cls, config: Mapping[str, Any], ray_address: str | None = None) -> RunnerSettings:
        """The runner keys of a search config (`nas.search.resolve_config`'s), joining `ray_address`."""
        return cls(config["runner"], ray_address, config.get("max_concurrent"), config["cpus_per_trial"],
                   config.get("gpus_per_trial", 0.0))

    def run_options(self) -> dict[str, Any]:
        """The keyword options of `nas.runners.run` for these settings (the Ray ones only for Ray)."""
        options: dict[str, Any] = {"cpus_per_trial": self.cpus_per_trial}
        if self.runner == "ray":
            options.update(ray_address=self.ray_address, max_concurrent=self.max_concurrent,
                           gpus_per_trial=self.gpus_per_trial)
        if self.scheduler is not None:
            options["scheduler"] = self.scheduler
        return options
