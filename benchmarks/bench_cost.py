"""Analytic cost() throughput vs thop profiling the built module, on sampled MnasNet-space archs.

Target (issue 2): >= 20,000 archs/s and >= 1000x thop. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import torch

from search_spaces import MnasNetSpace


def main() -> None:
    print(f"(load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n")
    parser = argparse.ArgumentParser()
    parser.add_argument("--archs", type=int, default=20000)
    parser.add_argument("--thop-archs", type=int, default=10)
    args = parser.parse_args()
    import thop

    space = MnasNetSpace()
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(args.archs)]

    start = time.perf_counter()
    costs = [a.cost() for a in archs]
    analytic = time.perf_counter() - start

    torch.set_num_threads(1)
    start = time.perf_counter()
    thop_macs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for arch in archs[: args.thop_archs]:
            model = arch.build().eval()
            macs, _ = thop.profile(model, inputs=(torch.zeros(1, 3, 224, 224),), verbose=False)
            thop_macs.append(macs)
    thop_time = time.perf_counter() - start
    errors = [abs(c.macs - t) / t for c, t in zip(costs, thop_macs, strict=False)]

    rate = args.archs / analytic
    thop_rate = args.thop_archs / thop_time
    print("| method | archs | seconds | archs/s | speed-up |")
    print("|---|---:|---:|---:|---:|")
    print(f"| analytic `arch.cost()` | {args.archs} | {analytic:.3f} | {rate:,.0f} | {rate / thop_rate:,.0f}x |")
    print(f"| thop.profile(build(arch)) | {args.thop_archs} | {thop_time:.2f} | {thop_rate:.2f} | 1x |")
    print(f"\nmedian |analytic - thop| / thop over {len(errors)} archs: {np.median(errors):.2%} "
          "(thop charges no MACs to SE's functional ops; see docs/PAPER_FACTS.md 'Units')")


if __name__ == "__main__":
    main()
