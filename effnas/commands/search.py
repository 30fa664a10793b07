"""`effnas search`: MnasNet-style architecture search (strategy x evaluator x runner), resumable.

Live progress on stderr (trials done/total, best reward so far, ETA); ends with a table of the
top architectures (and, for --preset b0-local, EfficientNet-B0 evaluated the same way beside them).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from nas.search_options import SEARCH_KEYS
from search_spaces import InputError, load_arch
from search_spaces.units import format_size, parse_size

from ..options import parse_pairs
from ..output import format_table, print_json
from ..runfolder import open_run, run_folder


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("search", help="architecture search under a MACs or latency target")
    p.add_argument("--target", help="T: MACs (400M, 1.8G) or, with --objective latency, milliseconds")
    p.add_argument("--objective", choices=("macs", "latency"), help="cost term: MACs (default) or latency")
    p.add_argument("--reward", choices=("soft", "hard", "user"), help="soft (a=b=-0.07, default), hard (a=0, b=-1)")
    p.add_argument("--alpha", type=float, help="exponent when cost <= T (with --reward user)")
    p.add_argument("--beta", type=float, help="exponent when cost > T (with --reward user)")
    p.add_argument("--strategy", help="ppo | evolution | random | nni-evolution | nni-tpe")
    p.add_argument("--evaluator", help="proxy | zero-cost | naswot | synflow")
    p.add_argument("--data", help="data directory/file for the proxy (ImageFolder, CIFAR-10 batches)")
    p.add_argument("--trials", type=int, help="number of trials (architectures evaluated)")
    p.add_argument("--runner", help="inline (one process) or ray (Ray Tune; default for presets: inline)")
    p.add_argument("--ray-address", help="join this Ray cluster (host:port; default RAY_ADDRESS or local Ray)")
    p.add_argument("--max-concurrent", type=int, help="concurrent trials (ray; default: CPUs / cpus per trial)")
    p.add_argument("--cpus-per-trial", type=float, help="CPUs reserved per Ray trial (default 1)")
    p.add_argument("--gpus-per-trial", type=float, help="GPUs reserved per Ray trial (default 0; b0-paper on a "
                   "GPU cluster: 1, with --eval-opt device=auto)")
    p.add_argument("--seed", type=int, help="strategy seed (default 0)")
    p.add_argument("--space", choices=("wide", "paper"), help="the MnasNet space's filter choices: wide (default: "
                   "every multiple of 8 in 0.75-1.25x) or paper (the literal 0.75, 1, 1.25x)")
    schedule = p.add_mutually_exclusive_group()
    schedule.add_argument("--sync", dest="synchronous", action="store_const", const=True,
                          help="generations of B candidates observed in trial order: reproducible for a seed on any "
                          "number of workers (default, except --preset b0-paper)")
    schedule.add_argument("--async", dest="synchronous", action="store_const", const=False,
                          help="a new candidate whenever a worker is free (clusters: no idle worker; not reproducible)")
    p.add_argument("--generation", type=int, metavar="B", help="candidates per synchronous generation (default: "
                   "the strategy's batch: PPO's batch, evolution's population, else 8)")
    p.add_argument("--band", type=float, metavar="B", help="train only candidates whose cost is within T*(1 +- B), "
                   "drawn by rejection from the strategy (b0-local: 0.1; 0 = no band)")
    p.add_argument("--scheduler", metavar="NAME", help="stop poor trials after an epoch: asha | hyperband (Ray "
                   "Tune's ASHA / asynchronous HyperBand, epochs as time; inline: emulated) | none (default)")
    p.add_argument("--scheduler-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="scheduler option: grace_period (epochs, default 1), reduction_factor (default 3), "
                   "brackets (hyperband; repeatable)")
    p.add_argument("--eval-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="evaluator option, e.g. epochs=2 (repeatable; JSON values)")
    p.add_argument("--strategy-opt", action="append", default=[], metavar="KEY=VALUE",
                   help="strategy option, e.g. population=20 (repeatable; JSON values)")
    p.add_argument("--preset", help="b0-paper | b0-local (explicit options override it)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--top", type=int, default=5, help="rows in the final table (default 5)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    p.add_argument("--out", required=True, help="run folder (config.json, trials.jsonl, best.json)")
    p.set_defaults(handler=cmd_search)


def _target(text: str | None, objective: str | None) -> float | None:
    if text is None:
        return None
    if objective == "latency":
        try:
            return float(text.removesuffix("ms"))
        except ValueError:
            raise InputError(f"--target must be milliseconds with --objective latency, got {text!r}") from None
    return parse_size(text)


def build_config(args: argparse.Namespace) -> dict[str, Any]:
    from nas.search import resolve_config, stored_config

    # each search option (nas.search_options) from the flag of its name; the target and the tables parsed
    explicit = {key: getattr(args, key, None) for key in SEARCH_KEYS}
    explicit.update(target=_target(args.target, args.objective),
                    scheduler_options=parse_pairs(args.scheduler_opt, "--scheduler-opt") or None,
                    evaluator_config=parse_pairs(args.eval_opt, "--eval-opt"),
                    strategy_options=parse_pairs(args.strategy_opt, "--strategy-opt"))
    stored = stored_config(args.out) if args.resume else None
    if stored is not None:  # resume: the stored run, overridden only by what was given explicitly
        if args.target is None and args.objective is None and stored.get("objective") == "latency":
            explicit["target"] = None
        merged = {k: stored.get(k) for k in SEARCH_KEYS}
        merged["evaluator_config"] = {**(stored.get("evaluator_config") or {}), **explicit.pop("evaluator_config")}
        merged["strategy_options"] = {**(stored.get("strategy_options") or {}), **explicit.pop("strategy_options")}
        if explicit.get("scheduler") in (None, stored.get("scheduler")):  # the stored scheduler's options, updated
            merged["scheduler_options"] = {**(stored.get("scheduler_options") or {}),
                                           **(explicit.pop("scheduler_options") or {})} or None
        else:
            merged["scheduler_options"] = None  # another scheduler: its own options (defaults), not the stored ones
        merged.update({k: v for k, v in explicit.items() if v is not None})
        if args.preset is not None and args.preset != stored.get("preset"):
            raise InputError(f"{args.out} holds a run of preset {stored.get('preset')}, not {args.preset}")
        config = resolve_config(None, **merged)
        config["preset"] = stored.get("preset")
        return config
    return resolve_config(args.preset, **explicit)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _progress(event: dict[str, Any]) -> None:
    row = event["last"]
    stopped = f", stopped at epoch {row['epochs']}" if row.get("stopped") else ""
    print(f"[{event['done']:>{len(str(event['total']))}}/{event['total']}] best reward {event['best_reward']:.4f} | "
          f"{row['trial']}: metric {row['metric']:.4f} reward {row['reward']:.4f} MACs {format_size(row['macs'])} "
          f"({row['seconds']:.1f}s{stopped}) | ETA {_duration(event['eta_s'])}", file=sys.stderr, flush=True)


def _blocks(arch: dict) -> str:
    from search_spaces import Arch

    return " ".join(Arch.from_dict(arch).block_strings())


def reference_row(config: dict[str, Any]) -> dict[str, Any]:
    """EfficientNet-B0 evaluated with the run's evaluator and objective (inline)."""
    from nas.objective import Objective
    from nas.runners.trial import evaluate_trial

    arch = load_arch("efficientnet-b0")
    row = evaluate_trial("efficientnet-b0", arch.to_dict(), config["evaluator"], config["evaluator_config"])
    objective = Objective.from_config(config)
    return objective.score(row)  # (reward only, no latency_ms: the --json "reference" object as it was)


def _scheduler_note(config: dict[str, Any]) -> str:
    if not config.get("scheduler"):
        return ""
    options = config["scheduler_options"]
    return (f", {config['scheduler']} (grace {options['grace_period']} epoch(s), reduction factor "
            f"{options['reduction_factor']:g}, {options['brackets']} bracket(s))")


def cmd_search(args: argparse.Namespace) -> int:
    from nas.runners.ray_runner import check_fits, local_node
    from nas.search import check_out_dir, preflight, run_search

    if args.top < 1:
        raise InputError(f"--top must be >= 1, got {args.top}")
    args.out = str(run_folder(args.out))  # (~ expanded; a root or a file refused)
    config = build_config(args)
    check_out_dir(config, args.out, args.resume)  # refuse a foreign --out before printing anything
    preflight(config, args.ray_address)  # data decoded, Ray address reachable: all before the first write
    address = args.ray_address or os.environ.get("RAY_ADDRESS")
    if config["runner"] == "ray" and not (address and address not in ("auto", "local")):
        check_fits(config["cpus_per_trial"], config["gpus_per_trial"], [local_node()])
    if not args.quiet:
        print(f"effnas search: {config['strategy']} x {config['evaluator']} on {config['runner']}, "
              f"T = {format_size(config['target']) if config['objective'] == 'macs' else str(config['target']) + ' ms'}"
              f", reward {config['reward']} (a={config['alpha']}, b={config['beta']}), {config['trials']} trials"
              f"{_scheduler_note(config)} -> {args.out}", file=sys.stderr, flush=True)
    with open_run(args.out):
        summary = run_search(config, args.out, resume=args.resume, ray_address=args.ray_address,
                             progress=None if args.quiet else _progress)
    top = sorted(summary["rows"], key=lambda r: r["reward"], reverse=True)[: args.top]
    reference = reference_row(config) if config.get("preset") == "b0-local" else None
    if args.json:
        print_json({"out": summary["out"], "done": summary["done"], "total": summary["total"],
                    "best": summary["best"], "top": top, "reference": reference})
        return 0
    rows = [[i + 1, r["trial"], r["reward"], r["metric"], format_size(r["macs"]), format_size(r["params"]),
             _blocks(r["arch"])] for i, r in enumerate(top)]
    if reference is not None:
        rows.append(["ref", "efficientnet-b0", reference["reward"], reference["metric"],
                     format_size(reference["macs"]), format_size(reference["params"]), _blocks(reference["arch"])])
    print(f"{summary['done']}/{summary['total']} trials in {summary['out']} (metric: {config['evaluator']})")
    print(format_table(["#", "trial", "reward", "metric", "MACs", "params", "blocks"], rows, align="rlrrrrl"))
    return 0
