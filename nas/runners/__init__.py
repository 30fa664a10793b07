"""Runners: how trials execute. ``inline`` (this process, no Ray) and ``ray`` (Ray Tune trials on an
embedded local Ray or a cluster). Both take a `source()` of (key, Arch) candidates and call
`on_result(row)` in the driver as each finishes; see :func:`run`. How they run (runner, Ray address,
concurrency, resources per trial) is a :class:`RunnerSettings` (nas.runners.settings)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .settings import DEFAULT_RUNNER, RUNNERS, RunnerSettings, check_runner_name

__all__ = ["DEFAULT_RUNNER", "RUNNERS", "RunnerSettings", "check_runner", "check_runner_name", "run"]


def check_runner(runner: str, ray_address: str | None = None) -> None:
    """Refuse an unknown runner, and a Ray cluster address (argument or RAY_ADDRESS) that this driver
    cannot join: unreachable, not Ray, or refusing its authentication token (nas.runners.cluster)."""
    import os

    check_runner_name(runner)
    address = ray_address or os.environ.get("RAY_ADDRESS")
    if runner == "ray" and address and address not in ("auto", "local"):
        from .cluster import check_address

        check_address(address)


def run(runner: str, source: Callable[[], Any], on_result: Callable[[dict[str, Any]], None], evaluator: str,
        config: Mapping[str, Any], **options: Any) -> list[str]:
    """Dispatch to the named runner; returns the keys of trials that failed for good. `options` are
    the runner's keywords: ``RunnerSettings.run_options()``, plus ``on_failure`` for Ray."""
    check_runner_name(runner)
    if runner == "inline":
        from .inline import run_inline

        return run_inline(source, on_result, evaluator, config, **options)
    from .ray_runner import run_ray

    return run_ray(source, on_result, evaluator, config, **options)
