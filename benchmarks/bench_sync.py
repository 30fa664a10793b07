"""What a synchronous (reproducible) search costs in throughput against an asynchronous one.

The same search — `random` strategy, so every schedule evaluates the very same candidates and only
the schedule differs; proxy evaluator (digits, real training, ~5 s a trial on one core) — runs
through `nas.search.run_search` on one embedded Ray with 2 workers, once asynchronously and once
synchronously per generation size B, side by side in one run (modes interleaved over `--rounds`).
Reported per mode: wall time (and the part of it after the last trial's result: Tune's
clean-up), trials per minute, worker utilisation (Σ trial seconds / (wall · workers)), worker
processes used (the runner keeps every worker's trial actor between generations,
`nas.runners.ray_runner.keep_idle_actors`; without it Tune kept one, and a generation of short
trials ran on one worker) and throughput relative to async — measured, and modelled: the makespan
of each schedule replayed on the same per-trial seconds (each candidate's mean over all runs;
greedy dispatch in trial order; no per-trial overhead), which separates the barrier's cost from
the load drifting between runs on a shared machine. B = 2 fills both workers every round; B = 5
is the b0-local preset's PPO batch (an odd generation leaves one worker idle for its last
trial); B = 8 is the default for strategies without a natural batch. `ray.init` is outside the
wall times; each run starts its own Tune experiment (its workers import torch and load data).

    python benchmarks/bench_sync.py [--trials 16] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from nas.search import resolve_config, run_search

PROXY = {"dataset": "digits", "subset": 600, "epochs": 1, "resolution": 24, "batch": 32, "val_size": 64, "threads": 1}
MODES = [("async", False, None), ("sync B=2", True, 2), ("sync B=5", True, 5), ("sync B=8", True, 8)]


def one_run(out: Path, trials: int, workers: int, synchronous: bool, generation: int | None) -> dict:
    config = resolve_config(None, target=400_000_000, strategy="random", evaluator="proxy", evaluator_config=PROXY,
                            trials=trials, seed=0, runner="ray", max_concurrent=workers, synchronous=synchronous,
                            generation=generation)
    stamps: list[float] = []
    start = time.perf_counter()
    summary = run_search(config, out, progress=lambda event: stamps.append(time.perf_counter()))
    wall = time.perf_counter() - start
    rows = summary["rows"]
    busy = sum(row["seconds"] for row in rows)
    return {"wall": wall, "busy": busy, "archs": sorted(repr(row["arch"]["blocks"]) for row in rows),
            "trial_s": statistics.mean(row["seconds"] for row in rows),
            "seconds": {row["trial"]: row["seconds"] for row in rows},
            "processes": len({row["worker"] for row in rows}), "tail": start + wall - stamps[-1]}


def makespan(durations: list[float], workers: int) -> float:
    """Wall time of `durations` dispatched in order to the first free of `workers`."""
    free = [0.0] * workers
    for duration in durations:
        free[free.index(min(free))] += duration
    return max(free)


def modelled(durations: list[float], workers: int, generation: int | None) -> float:
    """Makespan asynchronously (None) or in synchronous generations of `generation` trials."""
    if generation is None:
        return makespan(durations, workers)
    return sum(makespan(durations[i: i + generation], workers) for i in range(0, len(durations), generation))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    import ray

    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    results: dict[str, list[dict]] = {name: [] for name, _, _ in MODES}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            one_run(Path(tmp) / "warm-up", 2, args.workers, False, None)  # page cache, compiled kernels
            for round_ in range(args.rounds):
                for name, synchronous, generation in MODES:
                    out = Path(tmp) / f"{round_}-{name.replace(' ', '-').replace('=', '')}"
                    results[name].append(one_run(out, args.trials, args.workers, synchronous, generation))
    finally:
        ray.shutdown()

    w = args.workers
    rate = {name: sum(args.trials for _ in runs) / sum(r["wall"] for r in runs) for name, runs in results.items()}
    same = len({repr(runs[0]["archs"]) for runs in results.values()}) == 1
    every = [run["seconds"] for runs in results.values() for run in runs]
    durations = [statistics.mean(run[key] for run in every) for key in sorted(every[0])]
    model = {name: modelled(durations, w, generation) for name, _, generation in MODES}
    print(f"{args.trials} proxy trials per run (digits, {PROXY['subset']} imgs, {PROXY['epochs']} epochs, "
          f"{PROXY['resolution']} px; random strategy, seed 0), {w} Ray workers, {args.rounds} round(s), "
          "modes interleaved\n")
    print("| schedule | wall s | after the last trial s | trials/min | worker utilisation | worker processes | "
          "mean trial s | throughput vs async | modelled: wall s | modelled: vs async |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, runs in results.items():
        wall = statistics.mean(r["wall"] for r in runs)
        busy = sum(r["busy"] for r in runs) / sum(r["wall"] * w for r in runs)
        trial = statistics.mean(r["trial_s"] for r in runs)
        processes = statistics.mean(r["processes"] for r in runs)
        tail = statistics.mean(r["tail"] for r in runs)
        print(f"| {name} | {wall:.1f} | {tail:.1f} | {60 * rate[name]:.1f} | {100 * busy:.0f}% | {processes:.0f} | "
              f"{trial:.2f} | "
              f"{rate[name] / rate['async']:.2f}× | {model[name]:.1f} | {model['async'] / model[name]:.2f}× |")
    print(f"\nsame candidates in every mode: {same}. Load average (1 min) at the end: {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs (other processes share the cores).")


if __name__ == "__main__":
    main()
