"""Runners: how trials execute. ``inline`` (this process, no Ray) and ``ray`` (Ray Tune trials on an
embedded local Ray or a cluster). Both take a `source()` of (key, Arch) candidates and call
`on_result(row)` in the driver as each finishes; see :func:`run`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from search_spaces import InputError

RUNNERS = ("inline", "ray")


def check_runner(runner: str, ray_address: str | None = None) -> None:
    """Refuse an unknown runner, and a Ray cluster address (argument or RAY_ADDRESS) that does not answer."""
    import os

    if runner not in RUNNERS:
        raise InputError(f"unknown runner {runner!r}; known: {', '.join(RUNNERS)}")
    address = ray_address or os.environ.get("RAY_ADDRESS")
    if runner == "ray" and address and address not in ("auto", "local"):
        from .ray_runner import probe_address

        probe_address(address)


def run(runner: str, source: Callable[[], Any], on_result: Callable[[dict[str, Any]], None], evaluator: str,
        config: Mapping[str, Any], **options: Any) -> list[str]:
    """Dispatch to the named runner; returns the keys of trials that failed for good."""
    if runner == "inline":
        from .inline import run_inline

        return run_inline(source, on_result, evaluator, config, **options)
    if runner == "ray":
        from .ray_runner import run_ray

        return run_ray(source, on_result, evaluator, config, **options)
    raise InputError(f"unknown runner {runner!r}; known: {', '.join(RUNNERS)}")
