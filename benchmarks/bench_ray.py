"""Ray runner (2 workers, embedded local Ray) vs the inline runner on the same ≥5 s trials.

Both runners evaluate the same fixed candidates (proxy evaluator: digits, real training, sized
to take ~5 s per trial on one core) through `nas.runners.run`, the code path of search and
grid search. Reports, side by side:
- end-to-end wall time and speed-up (Ray's worker start-up included: each fresh worker process
  imports torch and loads the data set before its first trial);
- steady-state throughput speed-up (goal ≥ 1.7× with 2 workers): trials per second between the
  first completion of every worker and the last completion;
- per-trial overhead of Ray in steady state: interval·workers − mean trial seconds.
`ray.init` is timed separately.

    python benchmarks/bench_ray.py [--trials 12]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

from nas.runners import run
from search_spaces import MnasNetSpace

PROXY = {"dataset": "digits", "subset": 600, "epochs": 2, "resolution": 24, "batch": 32, "val_size": 64, "threads": 1}


def timed_run(runner: str, candidates: list, **options) -> tuple[list[dict], list[float], float]:
    todo, rows, stamps = list(candidates), [], []
    start = time.perf_counter()

    def on_result(row: dict) -> None:
        rows.append(row)
        stamps.append(time.perf_counter() - start)

    run(runner, lambda: todo.pop(0) if todo else None, on_result, "proxy", PROXY, **options)
    return rows, stamps, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5,
                        help="proxy epochs per trial (5: trials of >= 5 s on an idle core, the issue's size)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    space = MnasNetSpace()
    PROXY["epochs"] = args.epochs
    candidates = [(f"c{i}", space.sample(np.random.default_rng(1000 + i))) for i in range(args.trials)]
    timed_run("inline", candidates[:1])  # warm the driver's caches (imports, data set)
    inline_rows, inline_t, inline_wall = timed_run("inline", candidates)

    import ray

    start = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    init_s = time.perf_counter() - start
    ray_rows, ray_t, ray_wall = timed_run("ray", candidates, max_concurrent=args.workers)
    ray.shutdown()

    w = args.workers
    inline_rate = (len(inline_t) - 1) / (inline_t[-1] - inline_t[0])
    ray_rate = (len(ray_t) - w) / (ray_t[-1] - ray_t[w - 1])
    inline_trial = statistics.mean(r["seconds"] for r in inline_rows)
    steady = ray_rows[w:]
    ray_trial = statistics.mean(r["seconds"] for r in steady)
    overhead = w / ray_rate - ray_trial
    print(f"{args.trials} proxy trials (digits, {PROXY['subset']} imgs, {PROXY['epochs']} epochs, "
          f"{PROXY['resolution']} px), {w} Ray workers ({len({r['worker'] for r in ray_rows})} processes used)\n")
    print("| runner | wall s | speed-up (wall) | steady trials/min | speed-up (steady) | mean trial s | "
          "per-trial overhead s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| inline | {inline_wall:.1f} | 1.00× | {60 * inline_rate:.1f} | 1.00× | {inline_trial:.2f} | "
          f"{1 / inline_rate - inline_trial:.2f} |")
    print(f"| ray ×{w} | {ray_wall:.1f} | {inline_wall / ray_wall:.2f}× | {60 * ray_rate:.1f} | "
          f"{ray_rate / inline_rate:.2f}× | {ray_trial:.2f} | {overhead:.2f} |")
    inline_s = " ".join(f"{r['seconds']:.1f}" for r in inline_rows)
    ray_s = " ".join(f"{r['seconds']:.1f}" for r in ray_rows)
    print(f"\nper-trial seconds, inline: {inline_s}; ray (completion order): {ray_s}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(other processes share the cores: trials slow down when run side by side)")
    print(f"ray.init: {init_s:.1f} s (not in the wall times). Same metrics inline vs Ray: "
          f"{sorted(r['metric'] for r in inline_rows) == sorted(r['metric'] for r in ray_rows)}")


if __name__ == "__main__":
    main()
