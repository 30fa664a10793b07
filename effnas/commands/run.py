"""`effnas run JOB.toml`: the whole pipeline (search → grid → family → detectors)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ..jobs import STAGES, load_job
from ..output import print_json


def register(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="run a pipeline job (JOB.toml): search, grid, family, detectors")
    run.add_argument("job", metavar="JOB.toml", help="the job file (see jobs/)")
    run.add_argument("--from", dest="from_stage", choices=STAGES, help="redo this stage and all after it")
    run.add_argument("--out", help="run folder (overrides [job] out)")
    run.add_argument("--runner", choices=("ray", "inline"), help="override [job] runner")
    run.add_argument("--ray-address", help="join this Ray cluster (default: RAY_ADDRESS or embedded local Ray)")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.add_argument("--json", action="store_true", help="print the run summary as JSON")
    run.set_defaults(handler=cmd_run)


class ProgressPrinter:
    """One line per stage event on stderr (trials done/total, best reward, ETA)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last = 0.0

    def log(self, message: str) -> None:
        if not self.quiet:
            print(f"effnas: {message}", file=sys.stderr, flush=True)

    def __call__(self, stage: str, event: dict[str, Any]) -> None:
        if self.quiet:
            return
        done, total = event.get("done"), event.get("total")
        parts = [f"[{stage}] {done}/{total}"]
        if event.get("best_reward") is not None:
            parts.append(f"best reward {event['best_reward']:.4f}")
        if event.get("eta_s") is not None:
            parts.append(f"ETA {event['eta_s'] / 60:.1f} min")
        print("effnas: " + ", ".join(parts), file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    from dataclasses import replace
    from pathlib import Path

    from ..pipeline import Pipeline
    from ..report import family_table, read_json

    job = load_job(args.job)
    changes: dict[str, Any] = {}
    if args.out:
        changes["out"] = Path(args.out)
    if args.runner:
        changes["runner"] = args.runner
    if args.ray_address:
        changes["ray_address"] = args.ray_address
    job = replace(job, **changes) if changes else job
    printer = ProgressPrinter(args.quiet or args.json)
    start = time.monotonic()
    summary = Pipeline(job, from_stage=args.from_stage, log=printer.log, progress=printer).run()
    summary["seconds"] = round(time.monotonic() - start, 1)
    if args.json:
        print_json(summary)
        return 0
    family = read_json(Path(summary["out"]) / "family.json")
    if family:
        print(family_table(family))
    print(f"\nreport: {summary['report']}  ({summary['seconds']:.0f} s)")
    return 0
