"""Ray runner (2 workers, embedded local Ray) vs the inline runner on the same ≥5 s trials.

Both evaluate the same fixed candidates through `nas.batch.evaluate_batch` with the proxy
evaluator (digits, real training, sized to take ≥5 s per trial on one core). Reports wall
times, the speed-up (goal ≥ 1.7× with 2 workers) and the per-trial overhead of Ray:
overhead = (wall · workers − Σ trial seconds) / trials, with Ray's start-up timed separately.

    python benchmarks/bench_ray.py [--trials 6]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
import torch

from nas.batch import evaluate_batch
from search_spaces import MnasNetSpace

PROXY = {"dataset": "digits", "subset": 160, "epochs": 1, "resolution": 16, "batch": 32, "val_size": 64, "threads": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    space = MnasNetSpace()
    candidates = [(f"c{i}", space.sample(np.random.default_rng(1000 + i))) for i in range(args.trials)]
    evaluate_batch(candidates[:1], "proxy", PROXY, tempfile.mkdtemp())  # warm caches (data set, imports)

    start = time.perf_counter()
    inline_rows = evaluate_batch(candidates, "proxy", PROXY, tempfile.mkdtemp(), runner="inline")
    inline_wall = time.perf_counter() - start

    import ray

    start = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    init_s = time.perf_counter() - start
    start = time.perf_counter()
    ray_rows = evaluate_batch(candidates, "proxy", PROXY, tempfile.mkdtemp(), runner="ray",
                              max_concurrent=args.workers)
    ray_wall = time.perf_counter() - start
    ray.shutdown()

    inline_trial = statistics.mean(r["seconds"] for r in inline_rows)
    ray_trial = statistics.mean(r["seconds"] for r in ray_rows)
    overhead = (ray_wall * args.workers - sum(r["seconds"] for r in ray_rows)) / args.trials
    workers = len({r["worker"] for r in ray_rows})
    print(f"{args.trials} proxy trials (digits, {PROXY['subset']} imgs, {PROXY['epochs']} epoch, "
          f"{PROXY['resolution']} px), {args.workers} Ray workers ({workers} worker processes used)\n")
    print("| runner | wall s | mean trial s | speed-up | per-trial overhead s |")
    print("|---|---:|---:|---:|---:|")
    print(f"| inline | {inline_wall:.1f} | {inline_trial:.2f} | 1.00× | "
          f"{(inline_wall - sum(r['seconds'] for r in inline_rows)) / args.trials:.2f} |")
    print(f"| ray ×{args.workers} | {ray_wall:.1f} | {ray_trial:.2f} | {inline_wall / ray_wall:.2f}× | "
          f"{overhead:.2f} |")
    print(f"| ray ×{args.workers} incl. start-up | {ray_wall + init_s:.1f} | | "
          f"{inline_wall / (ray_wall + init_s):.2f}× | |")
    print(f"\nray.init: {init_s:.1f} s. Same metrics inline vs Ray: "
          f"{all(abs(a['metric'] - b['metric']) < 1e-9 for a, b in zip(inline_rows, ray_rows, strict=True))}")


if __name__ == "__main__":
    main()
