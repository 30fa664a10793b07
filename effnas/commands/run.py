"""`effnas run JOB.toml`: the whole pipeline (search → grid → family → detectors)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ..jobs import STAGES, load_job
from ..output import format_duration, print_json


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
    """Stage progress on stderr: rich progress bars on a terminal, plain lines otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bars = None
        self.tasks: dict[str, Any] = {}
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[best]}"), TimeRemainingColumn(),
                                 console=Console(stderr=True))
            self.bars.start()

    def log(self, message: str) -> None:
        if self.quiet:
            return
        if self.bars is not None:
            self.bars.console.print(f"effnas: {message}")
        else:
            print(f"effnas: {message}", file=sys.stderr, flush=True)

    def __call__(self, stage: str, event: dict[str, Any]) -> None:
        if self.quiet:
            return
        done, total = event.get("done"), event.get("total")
        best = f"best reward {event['best_reward']:.4f}" if event.get("best_reward") is not None else ""
        if self.bars is not None:
            if stage not in self.tasks:
                self.tasks[stage] = self.bars.add_task(stage, total=total, best="")
            self.bars.update(self.tasks[stage], completed=done, total=total, best=best)
            return
        parts = [f"[{stage}] {done}/{total}" if total else f"[{stage}] {done} evaluated"] + ([best] if best else [])
        if event.get("eta_s") is not None:
            parts.append(f"ETA {format_duration(event['eta_s'])}")
        print("effnas: " + ", ".join(parts), file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bars is not None:
            self.bars.stop()


def cmd_run(args: argparse.Namespace) -> int:
    from dataclasses import replace
    from pathlib import Path

    from ..pipeline import Pipeline
    from ..report import family_table, read_json
    from ..runfolder import run_folder

    job = load_job(args.job)
    changes: dict[str, Any] = {}
    if args.out:
        changes["out"] = run_folder(args.out, "--out")
    if args.runner:
        changes["runner"] = args.runner
    if args.ray_address:
        changes["ray_address"] = args.ray_address
    job = replace(job, **changes) if changes else job
    printer = ProgressPrinter(args.quiet or args.json)
    start = time.monotonic()
    try:
        summary = Pipeline(job, from_stage=args.from_stage, log=printer.log, progress=printer).run()
    finally:
        printer.close()
    summary["seconds"] = round(time.monotonic() - start, 1)
    if args.json:
        print_json(summary)
        return 0
    family = read_json(Path(summary["out"]) / "family.json")
    if family:
        print(family_table(family))
    print(f"\nreport: {summary['report']}  ({summary['seconds']:.0f} s)")
    return 0
