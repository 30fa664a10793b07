"""`effnas space sample|show`: random members of the MnasNet space."""

from __future__ import annotations

import argparse

from search_spaces import MnasNetSpace
from search_spaces.bounds import MAX_SAMPLES, check_int, check_seed
from search_spaces.space import DECISIONS
from search_spaces.units import format_size

from ..output import format_table, print_json


def register(commands: argparse._SubParsersAction) -> None:
    space = commands.add_parser("space", help="the MnasNet factorized hierarchical search space")
    verbs = space.add_subparsers(dest="verb", metavar="VERB", parser_class=type(space))
    sample = verbs.add_parser("sample", help="random members of the space")
    sample.add_argument("--n", type=int, default=5, help="how many (default 5)")
    sample.add_argument("--seed", type=int, default=0, help="random seed")
    sample.add_argument("--filters", choices=("wide", "paper"), default="wide",
                        help="filter choices: every multiple of 8 in 0.75-1.25x (wide) or the paper's 3")
    sample.add_argument("--json", action="store_true", help="machine-readable output")
    sample.set_defaults(handler=cmd_sample)
    show = verbs.add_parser("show", help="the decisions and the size of the space")
    show.add_argument("--filters", choices=("wide", "paper"), default="wide")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)
    space.set_defaults(handler=lambda args: space.print_help() or 2)


def cmd_sample(args: argparse.Namespace) -> int:
    check_int(args.n, "--n", 1, MAX_SAMPLES)
    check_seed(args.seed, "--seed")
    import numpy as np

    space = MnasNetSpace(filters=args.filters)
    rng = np.random.default_rng(args.seed)
    members = []
    for index in range(args.n):
        tokens = space.sample_tokens(rng)
        arch = space.decode(tokens, name=f"sample-{args.seed}-{index}")
        cost = arch.cost()
        members.append({"name": arch.name, "tokens": tokens, "params": cost.params, "macs": cost.macs,
                        "blocks": arch.block_strings(), "arch": arch.to_dict()})
    if args.json:
        print_json({"space": "mnasnet", "filters": args.filters, "seed": args.seed, "size": space.size(),
                    "members": members})
        return 0
    rows = [[m["name"], format_size(m["params"]), format_size(m["macs"]), " ".join(m["blocks"])] for m in members]
    print(format_table(["name", "params", "MACs", "blocks"], rows, align="lrrl"))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    space = MnasNetSpace(filters=args.filters)
    blocks = [{"block": b + 1, **dict(zip(DECISIONS, [list(v) for v in space.block_choices(b)], strict=True))}
              for b in range(space.num_blocks)]
    if args.json:
        print_json({"filters": args.filters, "size": space.size(), "tokens": len(space.choices), "blocks": blocks})
        return 0
    print(f"MnasNet space ({args.filters} filters): {space.size():.3e} architectures, {len(space.choices)} tokens")
    rows = [[b["block"], "/".join(b["op"]), "/".join(map(str, b["kernel"])), "/".join(map(str, b["se"])),
             "/".join(b["skip"]), "/".join(map(str, b["filters"])), "/".join(map(str, b["layers"]))] for b in blocks]
    print(format_table(["block", "op", "kernel", "se", "skip", "filters", "layers"], rows, align="rllllll"))
    return 0
