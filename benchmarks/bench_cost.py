"""Analytic cost() throughput vs thop profiling the built module, side by side in one run.

Three populations of sampled architectures: MnasNet-space members (uniform tokens), and random
scalings of ResNet-50 and of EfficientNetV2-S (width and depth multipliers in [0.5, 2], input 128-320
px). Each analytic row is the median of `--rounds` rounds, each on freshly sampled archs; before
each timing the garbage collector is run (as `timeit` does by disabling it): sampling 20,000 archs
leaves ~400k live objects and a full collection pending, which otherwise lands inside the timed
region and halves the rate (the "as sampled" column shows it). Targets (issue 26): >= 40,000
archs/s and >= 5,000x thop on build + profile.

    python benchmarks/bench_cost.py [--archs 20000] [--thop-archs 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
import warnings

import numpy as np
import torch

from search_spaces import Arch, MnasNetSpace, load_arch


def sample(population: str, rng: np.random.Generator) -> Arch:
    if population == "mnasnet-space":
        return MnasNetSpace().sample(rng)
    base = load_arch(population)
    width, depth = (float(v) for v in rng.uniform(0.5, 2.0, size=2))
    return base.scaled(width=round(width, 3), depth=round(depth, 3), resolution=int(rng.integers(16, 41)) * 8)


def analytic_rate(population: str, count: int, rng: np.random.Generator, collect: bool) -> tuple[float, list]:
    archs = [sample(population, rng) for _ in range(count)]
    if collect:
        gc.collect()
    start = time.perf_counter()
    costs = [a.cost() for a in archs]
    return count / (time.perf_counter() - start), list(zip(archs, costs, strict=True))


def thop_rate(pairs: list, count: int) -> tuple[float, float]:
    """(archs/s of build + thop.profile, median |analytic − thop| / thop)."""
    import thop

    torch.set_num_threads(1)
    errors = []
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for arch, cost in pairs[:count]:
            model = arch.build().eval()
            x = torch.zeros(1, arch.in_channels, arch.resolution, arch.resolution)
            macs, _ = thop.profile(model, inputs=(x,), verbose=False)
            errors.append(abs(cost.macs - macs) / macs)
    return count / (time.perf_counter() - start), float(np.median(errors))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--archs", type=int, default=20000)
    parser.add_argument("--thop-archs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"(load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n")
    print("| archs | analytic archs/s (median of rounds) | as sampled (no collection first) | "
          "thop build+profile archs/s | speed-up | median \\|analytic − thop\\| / thop |")
    print("|---|---:|---:|---:|---:|---:|")
    for population in ("mnasnet-space", "resnet-50", "efficientnetv2-s"):
        rng = np.random.default_rng(0)
        raw, _ = analytic_rate(population, args.archs, rng, collect=False)
        rates, pairs = [], []
        for _ in range(args.rounds):
            rate, pairs = analytic_rate(population, args.archs, rng, collect=True)
            rates.append(rate)
        rate = statistics.median(rates)
        slow, error = thop_rate(pairs, args.thop_archs)
        print(f"| {population} ({args.archs} per round) | {rate:,.0f} | {raw:,.0f} | {slow:.3f} | "
              f"{rate / slow:,.0f}x | {error:.2%} |")
    print("\nthop charges no MACs to SE's functional ops (mean, sigmoid product): docs/PAPER_FACTS.md 'Units'.")


if __name__ == "__main__":
    main()
