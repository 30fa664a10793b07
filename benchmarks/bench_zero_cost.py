"""Kendall τ of zero-cost proxies (NASWOT, synflow) against proxy-trained accuracy.

Samples N random architectures of the MnasNet space (seeded), scores each with NASWOT and
synflow, trains each with the `proxy` evaluator, and reports Kendall's τ (scipy) between each
zero-cost score and the trained held-out accuracy (plus τ of MACs and params, as baselines).
Per-arch results go to a JSON file (resumed if present, so an interrupted run continues).

    python benchmarks/bench_zero_cost.py [--n 30] [--seed 0] [--out benchmarks/results/zero_cost_tau.json]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

from nas.evaluators import get_evaluator
from search_spaces import MnasNetSpace
from search_spaces.atomic import write_json_atomic

PROXY = {"dataset": "digits", "resolution": 32, "subset": 600, "epochs": 3, "batch": 32, "threads": 1, "seed": 0}
ZERO_COST = {"dataset": "digits", "resolution": 32, "batch": 32, "threads": 1, "seed": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/zero_cost_tau.json")
    parser.add_argument("--epochs", type=float, default=PROXY["epochs"])
    parser.add_argument("--subset", type=int, default=PROXY["subset"])
    args = parser.parse_args()
    proxy_config = {**PROXY, "epochs": args.epochs, "subset": args.subset}
    out = Path(args.out)
    done = json.loads(out.read_text())["archs"] if out.is_file() else []
    space, rng = MnasNetSpace(), np.random.default_rng(args.seed)
    archs = [space.sample(rng) for _ in range(args.n)]
    zero_cost, proxy = get_evaluator("zero-cost"), get_evaluator("proxy")
    rows = list(done[: args.n])
    for index in range(len(rows), args.n):
        arch = archs[index].with_(name=f"rand-{args.seed}-{index}")
        cost = arch.cost()
        row = {"index": index, "arch": arch.to_dict(), "params": cost.params, "macs": cost.macs}
        for score in ("naswot", "synflow"):
            result = zero_cost(arch, {**ZERO_COST, "score": score})
            row[score], row[f"{score}_seconds"] = result["metric"], result["seconds"]
        trained = proxy(arch, proxy_config)
        row.update(accuracy=trained["metric"], train_loss=trained["train_loss"], proxy_seconds=trained["seconds"],
                   proxy=trained["proxy"])
        rows.append(row)
        write_json_atomic(out, {"config": {"proxy": proxy_config, "zero_cost": ZERO_COST, "n": args.n,
                                           "seed": args.seed}, "archs": rows})
        print(f"[{index + 1}/{args.n}] acc {row['accuracy']:.3f} naswot {row['naswot']:.1f} "
              f"synflow {row['synflow']:.1f} ({row['proxy_seconds']:.0f}s)", flush=True)
    report(rows)


def report(rows: list[dict]) -> None:
    accuracy = [r["accuracy"] for r in rows]
    print(f"\nZero-cost proxies vs proxy-trained accuracy over {len(rows)} random MnasNet-space archs "
          f"({rows[0]['proxy']})\n")
    print("| score | Kendall τ vs accuracy | p-value | mean seconds / arch |")
    print("|---|---|---|---|")
    for name, seconds in (("naswot", "naswot_seconds"), ("synflow", "synflow_seconds"), ("macs", None),
                          ("params", None)):
        values = [r[name] if math.isfinite(r[name]) else -1e300 for r in rows]
        tau, p = kendalltau(values, accuracy)
        mean = f"{np.mean([r[seconds] for r in rows]):.2f}" if seconds else "0 (analytic)"
        print(f"| {name} | {tau:+.3f} | {p:.3g} | {mean} |")
    print(f"| (proxy training) | 1 | — | {np.mean([r['proxy_seconds'] for r in rows]):.1f} |")
    print(f"\naccuracy range {min(accuracy):.3f}–{max(accuracy):.3f}, mean {np.mean(accuracy):.3f}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\n(total {time.perf_counter() - start:.0f} s)")
