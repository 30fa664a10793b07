"""Benchmark: MACs-target members — error and time per member over random log-uniform targets.

For each base, N targets drawn log-uniformly in [0.1G, 50G] (seeded), the lower edge raised to 1.05×
the smallest member the base can reach where that is above 0.1G (the table prints the edge used).
Side by side in one run:
* `fit_target`: bisection on φ + rounding-neighbourhood search (the engine);
* `compound @ solved φ`: the plain compound member at the bisection's φ (no neighbourhood),
  the closer of the two bracketing members — what rounding alone gives.
Prints a Markdown table: median / p95 / max |MACs error|, share within 1%, median / max ms per member.

    python benchmarks/bench_family_targets.py [--n 200] [--seed 0] [--bases efficientnet-b0,mnasnet-a1,space,...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from scaling.coefficients import PAPER
from scaling.targets import _bracket, compound_macs, fit_target, smallest_macs
from search_spaces import MnasNetSpace, load_arch


def _base(name: str):
    if name == "space":
        return MnasNetSpace().sample(np.random.default_rng(11))
    return load_arch(name)


def _plain(base, target: int) -> tuple[float, float]:
    start = time.perf_counter()
    low, high = _bracket(base.scaled(), target, PAPER)
    macs = min((compound_macs(base, p, PAPER) for p in (low, high)), key=lambda m: abs(m - target))
    return abs(macs - target) / target, time.perf_counter() - start


def _fit(base, target: int) -> tuple[float, float]:
    start = time.perf_counter()
    fit = fit_target(base, target)
    return abs(fit.error), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bases", default="efficientnet-b0,mnasnet-a1,space,resnet-50,resnet-18,mobilenet-v1,"
                                           "efficientnetv2-s")
    args = parser.parse_args()
    uniform = np.random.default_rng(args.seed).uniform(0.0, 1.0, args.n)
    print(f"{args.n} log-uniform targets in [0.1G, 50G] (from 1.05x the base's smallest member where that is "
          f"higher), seed {args.seed}, alpha=1.2 beta=1.1 gamma=1.15\n")
    print("| base | targets from | method | median err | p95 err | max err | within 1% | median ms | max ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.bases.split(","):
        base = _base(name)
        low = max(1e8, 1.05 * smallest_macs(base))
        targets = np.exp(np.log(low) + uniform * (np.log(5e10) - np.log(low))).astype(np.int64)
        fit_target(base, int(targets[0]))  # warm the smallest-member cache, as a family run would
        for label, method in (("fit_target", _fit), ("compound @ solved phi", _plain)):
            errors, seconds = zip(*(method(base, int(t)) for t in targets), strict=True)
            e, s = np.array(errors) * 100, np.array(seconds) * 1000
            print(f"| {base.name} | {low / 1e9:.2f}G | {label} | {np.median(e):.3f}% | {np.percentile(e, 95):.3f}% | "
                  f"{e.max():.3f}% | {(e <= 1).mean() * 100:.0f}% | {np.median(s):.1f} | {s.max():.1f} |")


if __name__ == "__main__":
    main()
