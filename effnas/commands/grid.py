"""`effnas grid`: step-1 compound scaling — grid search of alpha, beta, gamma at phi, plus matched-MACs
single-dimension scaling, evaluated through the search's runners; resumable from --out."""

from __future__ import annotations

import argparse
import os
from typing import Any

from nas.runners.settings import DEFAULT_RUNNER, RUNNERS
from scaling.grid_options import GridOptions
from search_spaces import InputError
from search_spaces.units import format_size

from ..archsource import resolve_arch
from ..options import parse_config, parse_pairs
from ..output import format_table, print_json, print_progress
from ..runfolder import open_run


def register(commands: argparse._SubParsersAction) -> None:
    grid = commands.add_parser("grid", help="grid search of alpha, beta, gamma (writes coefficients.json)")
    grid.add_argument("--base", required=True, metavar="ARCH",
                        help="preset name, arch JSON file, or a search run's best.json / folder")
    grid.add_argument("--phi", type=float, default=GridOptions.phi,
                      help=f"phi at which the grid is compared (default {GridOptions.phi:g})")
    grid.add_argument("--evaluator", required=True, metavar="E", help="evaluator name (proxy, zero-cost, ...)")
    grid.add_argument("--step", type=float, default=GridOptions.step,
                      help=f"grid step for alpha, beta, gamma (default {GridOptions.step:g})")
    grid.add_argument("--tolerance", type=float, default=GridOptions.tolerance,
                      help=f"accepted |alpha*beta^2*gamma^2 - 2| (default {GridOptions.tolerance:g})")
    grid.add_argument("--levels", default=",".join(f"{level:g}" for level in GridOptions.levels), metavar="LIST",
                      help="MACs levels (multiples of the base MACs) for single-dimension scaling "
                      "(default %(default)s)")
    grid.add_argument("--config", action="append", default=[], metavar="JSON|FILE|KEY=VAL",
                      help="evaluator options: a JSON object, a JSON file, or key=value (repeatable)")
    grid.add_argument("--runner", choices=RUNNERS, default=DEFAULT_RUNNER)
    grid.add_argument("--ray-address", default=os.environ.get("RAY_ADDRESS"), help="Ray cluster (default: local)")
    grid.add_argument("--max-concurrent", type=int, help="Ray trials at once")
    grid.add_argument("--scheduler", metavar="NAME", help="stop poor candidates after an epoch: asha | hyperband | "
                      "none (default; see effnas search --scheduler)")
    grid.add_argument("--scheduler-opt", action="append", default=[], metavar="KEY=VALUE",
                      help="scheduler option: grace_period, reduction_factor, brackets (repeatable)")
    grid.add_argument("--fixed-proxy-resolution", action="store_true",
                      help="evaluate every candidate at the config resolution (default: scaled with the candidate)")
    grid.add_argument("--match-macs", action="store_true",
                      help="each triple's member nearest 2^phi x base MACs (equal cost), not the plain phi member")
    grid.add_argument("--no-plot", action="store_true", help="skip grid.png")
    grid.add_argument("--out", required=True, metavar="DIR", help="run folder (re-run to resume)")
    grid.add_argument("--json", action="store_true", help="print grid.json")
    grid.add_argument("--quiet", action="store_true", help="no progress lines (done/total, ETA) on stderr")
    grid.set_defaults(handler=cmd_grid)


def parse_levels(text: str) -> list[float]:
    try:
        levels = [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise InputError(f"--levels must be numbers like 2,4, got {text!r}") from None
    if not levels:
        raise InputError("--levels is empty")
    return levels


def _progress(event: dict[str, Any]) -> None:
    row = event["last"]
    stopped = f", stopped at epoch {row['epochs']}" if row.get("stopped") else ""
    print_progress(event, f"{row['trial']}: metric {row['metric']:.4f}, MACs {format_size(row['macs'])} "
                          f"({row['seconds']:.1f}s{stopped})")


def cmd_grid(args: argparse.Namespace) -> int:
    from nas.runners import RunnerSettings
    from scaling.grid import run_grid

    if args.max_concurrent is not None and args.max_concurrent < 1:
        raise InputError(f"--max-concurrent must be >= 1, got {args.max_concurrent}")
    settings = RunnerSettings(args.runner, args.ray_address, args.max_concurrent)
    config, levels = parse_config(args.config), parse_levels(args.levels)
    scheduler_options = parse_pairs(args.scheduler_opt, "--scheduler-opt")
    with open_run(args.out) as out:  # (a folder it creates is removed again if the grid refuses its input)
        result = run_grid(resolve_arch(args.base), args.evaluator, config, out, phi=args.phi, step=args.step,
                          tolerance=args.tolerance, levels=levels, settings=settings,
                          scale_proxy_resolution=not args.fixed_proxy_resolution, plot=not args.no_plot,
                          match_macs=args.match_macs, progress=None if args.quiet else _progress,
                          scheduler=args.scheduler, scheduler_options=scheduler_options or None)
    if args.json:
        print_json(result)
        return 0
    best = result["best"]
    print(f"grid at phi={result['phi']:g}: {result['grid_size']} coefficient triples, evaluator {result['evaluator']}"
          f" ({result['proxy'] or 'no proxy description'})")
    print(f"best alpha={best['alpha']:g} beta={best['beta']:g} gamma={best['gamma']:g} (product "
          f"{best['product']:.3f}): metric {best['metric']:.4f} at {format_size(best['macs'])} MACs")
    if result["paper_point"]:
        p = result["paper_point"]
        print(f"paper's 1.2/1.1/1.15: metric {p['metric']:.4f}, rank {p['rank']} of {result['grid_size']}")
    base = next(r for r in result["candidates"] if r["rule"] == "base")
    rows = [["x1", "base", format_size(base["macs"]), base["metric"]]]
    for level, rules in result["matched"].items():
        for rule in ("depth", "width", "resolution", "compound"):
            if rule in rules:
                rows.append([f"x{level}", rule, format_size(rules[rule]["macs"]), rules[rule]["metric"]])
    print("\nmatched MACs (one dimension vs compound):\n")
    print(format_table(["level", "rule", "MACs", "metric"], rows, align="llrr"))
    print(f"\nwrote grid.json, grid.md, coefficients.json{'' if args.no_plot else ', grid.png'} to {args.out}")
    return 0
