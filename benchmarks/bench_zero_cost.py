"""Kendall τ of zero-cost proxies (NASWOT, synflow) against proxy-trained accuracy.

Samples N random architectures of the MnasNet space (seeded), scores each with NASWOT and
synflow, trains each with the `proxy` evaluator, and reports Kendall's τ (scipy) between each
zero-cost score and the trained held-out accuracy (plus τ of MACs and params, as baselines).
Per-arch results go to one JSON file per arch under `--work` (an interrupted run continues; several
processes may run at once, each claims an arch with an exclusive lock file), then all rows to `--out`.

    python benchmarks/bench_zero_cost.py [--n 30] [--seed 0] [--out benchmarks/results/zero_cost_tau.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
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
    parser.add_argument("--work", default="results/bench/zero_cost_tau", help="per-arch rows (resumable)")
    parser.add_argument("--recheck-seed", type=int, default=1,
                        help="also train every arch with this seed (init, split, subset) to measure the proxy's "
                             "own seed-to-seed rank agreement (the ceiling for any τ); -1 to skip")
    parser.add_argument("--epochs", type=float, default=PROXY["epochs"])
    parser.add_argument("--subset", type=int, default=PROXY["subset"])
    args = parser.parse_args()
    proxy_config = {**PROXY, "epochs": args.epochs, "subset": args.subset}
    out, work = Path(args.out), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    config = {"proxy": proxy_config, "zero_cost": ZERO_COST, "n": args.n, "seed": args.seed}
    space, rng = MnasNetSpace(), np.random.default_rng(args.seed)
    archs = [space.sample(rng) for _ in range(args.n)]
    zero_cost, proxy = get_evaluator("zero-cost"), get_evaluator("proxy")
    for index, arch in enumerate(archs):
        row_path, lock = work / f"arch-{index:03d}.json", work / f"arch-{index:03d}.lock"
        if row_path.is_file() and json.loads(row_path.read_text())["config"] == config:
            continue
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL))
        except FileExistsError:  # another process is on it
            continue
        arch = arch.with_(name=f"rand-{args.seed}-{index}")
        cost = arch.cost()
        row = {"index": index, "arch": arch.to_dict(), "params": cost.params, "macs": cost.macs}
        for score in ("naswot", "synflow"):
            result = zero_cost(arch, {**ZERO_COST, "score": score})
            row[score], row[f"{score}_seconds"] = result["metric"], result["seconds"]
        trained = proxy(arch, proxy_config)
        row.update(accuracy=trained["metric"], train_loss=trained["train_loss"], proxy_seconds=trained["seconds"],
                   proxy_cpu_seconds=trained.get("cpu_seconds"), proxy=trained["proxy"])
        write_json_atomic(row_path, {"config": config, "row": row})
        lock.unlink(missing_ok=True)
        print(f"[{index + 1}/{args.n}] acc {row['accuracy']:.3f} naswot {row['naswot']:.1f} "
              f"synflow {row['synflow']:.1f} ({row['proxy_seconds']:.0f}s)", flush=True)
    if args.recheck_seed >= 0:
        recheck = {**proxy_config, "seed": args.recheck_seed}
        for index, arch in enumerate(archs):
            row_path = work / f"arch-{index:03d}.seed{args.recheck_seed}.json"
            lock = row_path.with_suffix(".lock")
            if row_path.is_file() and json.loads(row_path.read_text())["config"] == recheck:
                continue
            try:
                os.close(os.open(lock, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                continue
            trained = proxy(arch.with_(name=f"rand-{args.seed}-{index}"), recheck)
            write_json_atomic(row_path, {"config": recheck, "accuracy": trained["metric"]})
            lock.unlink(missing_ok=True)
            print(f"[{index + 1}/{args.n}] seed {args.recheck_seed}: acc {trained['metric']:.3f}", flush=True)
    rows = []
    for index in range(args.n):
        row_path = work / f"arch-{index:03d}.json"
        again = work / f"arch-{index:03d}.seed{args.recheck_seed}.json"
        if not row_path.is_file() or args.recheck_seed >= 0 and not again.is_file():
            print(f"arch {index} not finished yet (another process?); rerun to report")
            return
        rows.append(json.loads(row_path.read_text())["row"])
        if args.recheck_seed >= 0:
            rows[-1]["accuracy_seed"] = {str(args.recheck_seed): json.loads(again.read_text())["accuracy"]}
    write_json_atomic(out, {"config": config, "archs": rows})
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
    if "accuracy_seed" in rows[0]:
        other = next(iter(rows[0]["accuracy_seed"]))
        tau, p = kendalltau([r["accuracy_seed"][other] for r in rows], accuracy)
        print(f"| proxy accuracy, seed {other} (noise ceiling) | {tau:+.3f} | {p:.3g} | "
              f"{np.mean([r['proxy_seconds'] for r in rows]):.1f} |")
    else:
        print(f"| (proxy training) | 1 | — | {np.mean([r['proxy_seconds'] for r in rows]):.1f} |")
    cpu = [r["proxy_cpu_seconds"] for r in rows if r.get("proxy_cpu_seconds")]
    if cpu:
        print(f"\nproxy training CPU time per arch: mean {np.mean(cpu):.1f} s, max {max(cpu):.1f} s (1 thread)")
    print(f"\naccuracy range {min(accuracy):.3f}–{max(accuracy):.3f}, mean {np.mean(accuracy):.3f}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\n(total {time.perf_counter() - start:.0f} s)")
