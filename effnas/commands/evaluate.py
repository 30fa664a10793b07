"""`effnas evaluate`: score one architecture with one evaluator (proxy training, zero-cost, ...).

The architecture is anything `load_arch` accepts (a preset name, block strings, an arch JSON file)
or a search run's best.json (or the run folder holding it). The evaluator's config comes from
exactly one source — a search preset (``--preset``), the reference-set budget (``--reference``),
or ``--evaluator`` (default proxy with the b0-local proxy config) — and ``--config key=value``
overrides single keys. Everything is checked before any training starts.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from search_spaces import Arch, InputError
from search_spaces.bounds import check_seed
from search_spaces.units import format_size

from ..archsource import resolve_arch
from ..options import parse_config
from ..output import format_table, print_json, print_progress

DEFAULT_PRESET = "b0-local"
DEFAULT_EVALUATOR = "proxy"
# Keys printed in --json even when the evaluator does not return them (then null).
RESULT_KEYS = ("metric", "accuracy", "train_loss", "mean_train_loss", "val_loss", "steps", "seconds", "proxy")


def register(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser("evaluate", help="score one architecture with one evaluator (proxy training, ...)")
    evaluate.add_argument("source", nargs="+", metavar="ARCH",
                          help="preset name, block strings, arch JSON file, or a run's best.json (or run folder)")
    sources = evaluate.add_mutually_exclusive_group()
    sources.add_argument("--preset", metavar="NAME",
                         help="take the evaluator and its config from a search preset (b0-local, b0-paper)")
    sources.add_argument("--reference", action="store_true",
                         help="the reference-set budget: proxy with nas.reference.REFERENCE_CONFIG")
    sources.add_argument("--evaluator", metavar="E",
                         help=f"evaluator name (default {DEFAULT_EVALUATOR}, with the {DEFAULT_PRESET} proxy config)")
    evaluate.add_argument("--config", action="append", default=[], metavar="JSON|FILE|KEY=VAL",
                          help="evaluator options: a JSON object, a JSON file, or key=value (repeatable; "
                               "overrides single keys of --preset/--reference)")
    evaluate.add_argument("--seed", type=int, help="evaluator seed (sets config seed; >= 0)")
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    evaluate.add_argument("--quiet", action="store_true", help="no training progress (steps done/total, ETA) on stderr")
    evaluate.set_defaults(handler=cmd_evaluate)


def resolve_config(args: argparse.Namespace) -> tuple[str, dict[str, Any], str]:
    """(evaluator name, config, where the config came from) from --preset/--reference/--evaluator,
    --config overrides and --seed; InputError on bad values."""
    from nas.presets import get_preset

    if args.preset is not None:
        chosen = get_preset(args.preset)
        evaluator = chosen["evaluator"]
        config = dict(chosen.get("evaluator_configs", {}).get(evaluator, {}))
        origin = f"preset {args.preset}"
    elif args.reference:
        from nas.reference import REFERENCE_CONFIG

        evaluator, config, origin = "proxy", dict(REFERENCE_CONFIG), "reference"
    else:
        evaluator = args.evaluator or DEFAULT_EVALUATOR
        config = dict(get_preset(DEFAULT_PRESET).get("evaluator_configs", {}).get(evaluator, {}))
        origin = f"{DEFAULT_PRESET} defaults" if config else "evaluator defaults"
    config.update(parse_config(args.config))
    if args.preset is not None and chosen.get("requires_data") and not config.get("dataset"):
        raise InputError(f"preset {args.preset} trains on your data: give --config dataset=PATH")
    if args.seed is not None:
        config["seed"] = check_seed(args.seed, "--seed")
    return evaluator, config, origin


def _overridden(args: argparse.Namespace) -> set[str]:
    """Config keys the user set explicitly with --config."""
    return set(parse_config(args.config)) if args.config else set()


def _run(evaluate: Any, evaluator_name: str, arch: Arch, config: dict[str, Any], quiet: bool) -> dict[str, Any]:
    """Evaluate once; proxy training reports steps done/total and an ETA on stderr every tenth of the way."""
    if quiet or evaluator_name != "proxy":
        return evaluate(arch, config)
    from nas.evaluators.reporter import Reporter
    from scaling.progress import Countdown

    state: dict[str, Any] = {}

    def report(done: int, total: int) -> None:
        if "countdown" not in state:
            state["countdown"] = Countdown(total)
        event = state["countdown"].tick()
        if done == total or done % max(1, total // 10) == 0:
            print_progress(event, "proxy training steps")

    return evaluate(arch, config, Reporter(step=report))


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Resolve and check arch, evaluator and config, evaluate once, print a table or JSON."""
    from nas.evaluators import check_config, get_evaluator

    arch = resolve_arch(args.source)
    evaluator_name, config, origin = resolve_config(args)
    if origin == "reference" and "resolution" not in _overridden(args):
        from nas.reference import reference_config_for

        config["resolution"] = reference_config_for(arch)["resolution"]  # follows the arch, as in the set
    evaluate = get_evaluator(evaluator_name)
    check_config(evaluator_name, config)
    cost = arch.cost()
    result = _run(evaluate, evaluator_name, arch, config, quiet=args.quiet)
    report: dict[str, Any] = {"name": arch.name, "evaluator": result.get("evaluator", evaluator_name),
                              **{key: result.get(key) for key in RESULT_KEYS},
                              "macs": cost.macs, "params": cost.params, "resolution": arch.resolution,
                              "config_source": origin, "config": config, "arch": arch.to_dict()}
    report["details"] = {k: v for k, v in result.items() if k not in report}
    if args.json:
        print_json(report)
        return 0
    headers = ["arch", "evaluator", "MACs", "params", "metric", "accuracy", "train_loss", "seconds"]
    row = [arch.name, report["evaluator"], format_size(cost.macs), format_size(cost.params)]
    row += ["-" if report[key] is None else report[key] for key in ("metric", "accuracy", "train_loss", "seconds")]
    print(format_table(headers, [row], align="llrrrrrr"))
    print(f"\nproxy: {report['proxy'] or 'no description'}")
    print(f"config ({origin}): {json.dumps(config, sort_keys=True)}")
    return 0
