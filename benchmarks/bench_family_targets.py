"""Benchmark: MACs-target members — error and time per member over random log-uniform targets.

For each base, N targets drawn log-uniformly in [0.1G, 50G] (seeded). Side by side in one run:
* `fit_target`: bisection on φ + rounding-neighbourhood search (the engine);
* `compound @ solved φ`: the plain compound member at the bisection's φ (no neighbourhood),
  the closer of the two bracketing members — what rounding alone gives.
Prints a Markdown table: median / p95 / max |MACs error|, share within 1%, median / max ms per member.

    python benchmarks/bench_family_targets.py [--n 200] [--seed 0] [--bases efficientnet-b0,mnasnet-a1,space]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from scaling.coefficients import PAPER
from scaling.targets import _bracket, compound_macs, fit_target
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
    parser.add_argument("--bases", default="efficientnet-b0,mnasnet-a1,space")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    targets = np.exp(rng.uniform(np.log(1e8), np.log(5e10), args.n)).astype(np.int64)
    print(f"{args.n} log-uniform targets in [0.1G, 50G], seed {args.seed}, alpha=1.2 beta=1.1 gamma=1.15\n")
    print("| base | method | median err | p95 err | max err | within 1% | median ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.bases.split(","):
        base = _base(name)
        fit_target(base, int(targets[0]))  # warm the smallest-member cache, as a family run would
        for label, method in (("fit_target", _fit), ("compound @ solved phi", _plain)):
            errors, seconds = zip(*(method(base, int(t)) for t in targets), strict=True)
            e, s = np.array(errors) * 100, np.array(seconds) * 1000
            print(f"| {base.name} | {label} | {np.median(e):.3f}% | {np.percentile(e, 95):.3f}% | {e.max():.3f}% | "
                  f"{(e <= 1).mean() * 100:.0f}% | {np.median(s):.1f} | {s.max():.1f} |")


if __name__ == "__main__":
    main()
