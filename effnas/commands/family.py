"""`effnas family`: step-2 compound scaling — members for φ values or MACs targets (family.json)."""

from __future__ import annotations

import argparse
import math
import os

from search_spaces import InputError
from search_spaces.atomic import write_text_atomic
from search_spaces.units import format_size, parse_sizes

from ..archsource import resolve_arch
from ..output import check_output_file, format_table


def register(commands: argparse._SubParsersAction) -> None:
    family = commands.add_parser("family", help="scale a base by phi values or to MACs targets (family.json)")
    family.add_argument("--base", required=True, metavar="ARCH",
                        help="preset name, arch JSON file, or a search run's best.json / folder")
    which = family.add_mutually_exclusive_group(required=True)
    which.add_argument("--phis", metavar="LIST", help="comma-separated phi values, e.g. 0,1,2 (negative: --phis=-1,0)")
    which.add_argument("--targets", metavar="LIST", help="comma-separated MACs targets, e.g. 400M,1G,3G")
    coefficients = family.add_mutually_exclusive_group()
    coefficients.add_argument("--coefficients", metavar="A,B,G", help="alpha,beta,gamma (default 1.2,1.1,1.15)")
    coefficients.add_argument("--coefficients-from", metavar="FILE",
                              help="a grid search's coefficients.json (or its run folder)")
    family.add_argument("--allow-any-coefficients", action="store_true",
                        help="accept coefficients violating alpha*beta^2*gamma^2 ~ 2, alpha,beta,gamma >= 1")
    family.add_argument("--json", action="store_true", help="print family.json to stdout")
    family.add_argument("-o", "--output", metavar="FILE", help="write family.json here (atomically)")
    family.set_defaults(handler=cmd_family)


def parse_phis(text: str) -> list[float]:
    values = []
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        try:
            value = float(part)
        except ValueError:
            raise InputError(f"phi values must be numbers like 0,1,2.5, got {part!r}") from None
        if not math.isfinite(value):
            raise InputError(f"phi values must be finite, got {part!r}")
        values.append(value)
    if not values:
        raise InputError("no phi values given")
    return values


def resolve_coefficients(args: argparse.Namespace):
    from scaling.coefficients import PAPER, load_coefficients, parse_coefficients

    if args.coefficients_from:
        path = args.coefficients_from
        if os.path.isdir(path):
            path = os.path.join(path, "coefficients.json")
        return load_coefficients(path)
    if args.coefficients:
        return parse_coefficients(args.coefficients)
    return PAPER


def cmd_family(args: argparse.Namespace) -> int:
    from scaling import make_family
    from scaling.official import official_comparison

    if args.output:
        check_output_file(args.output)
    coefficients = resolve_coefficients(args)
    base = resolve_arch(args.base)
    if args.phis is not None:
        family = make_family(base, phis=parse_phis(args.phis), coefficients=coefficients,
                             allow_any=args.allow_any_coefficients)
    else:
        family = make_family(base, targets=parse_sizes(args.targets, "MACs target"),
                             coefficients=coefficients, allow_any=args.allow_any_coefficients)
    text = family.to_json()
    if args.output:
        write_text_atomic(args.output, text)
    if args.json:
        print(text, end="")
        return 0
    _print_family(family, official_comparison(family))
    if args.output:
        print(f"\nwrote {len(family)} member{'' if len(family) == 1 else 's'} to {args.output}")
    return 0


def _print_family(family, official: list[dict]) -> None:
    c = family.coefficients
    base_macs = family.base.cost().macs
    print(f"base {family.base.name} ({format_size(base_macs)} MACs), alpha={c.alpha:g} beta={c.beta:g} "
          f"gamma={c.gamma:g} (alpha*beta^2*gamma^2 = {c.product:.3f})\n")
    rows = []
    for m in family:
        error = "" if m.error is None else f"{100 * m.error:+.2f}%"
        target = "" if m.target_macs is None else format_size(m.target_macs)
        rows.append([f"{m.phi:g}", target, format_size(m.macs), error, format_size(m.params), f"{m.width:.4g}",
                     f"{m.depth:.4g}", m.resolution, f"{m.macs / base_macs:.3g}", f"{2 ** m.phi:.3g}",
                     m.arch.num_layers])
    print(format_table(["phi", "target", "MACs", "error", "params", "width", "depth", "res", "MACs/base", "2^phi",
                        "layers"], rows, align="rrrrrrrrrrr"))
    if official:
        print("\nofficial (hand-rounded) B0-B7 beside the formula; MACs growth against 2^phi:\n")
        rows = [[r["phi"], r["official"], f"{r['official_width']:g}/{r['official_depth']:g}/{r['official_resolution']}",
                 format_size(r["official_macs"]), f"{r['official_growth']:.3g}",
                 f"{r['formula_width']:.4g}/{r['formula_depth']:.4g}/{r['formula_resolution']}",
                 format_size(r["formula_macs"]), f"{r['formula_growth']:.3g}", f"{r['two_to_phi']:g}",
                 f"{r['official_over_formula']:.3f}"] for r in official]
        print(format_table(["phi", "official", "w/d/res", "MACs", "growth", "formula w/d/res", "MACs", "growth",
                            "2^phi", "official/formula"], rows, align="rlrrrrrrrr"))
