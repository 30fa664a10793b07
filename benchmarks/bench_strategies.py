"""Strategies at equal trial budget on a cheap real evaluator (zero-cost NASWOT).

For each strategy and seed: `--trials` proposals, each scored by the zero-cost evaluator (NASWOT
log|K_H| on digits at 16 px, batch 8) and turned into the MnasNet soft reward
metric·(MACs/400M)^-0.07; the best reward of the run is recorded. Prints a Markdown table of the
mean ± std of the best reward over seeds, side by side with random search, plus the mean
reward of the last third of each run (does the strategy *concentrate* on good regions?).
Evaluations are memoised per architecture (the evaluator is deterministic for a fixed seed).

    python benchmarks/bench_strategies.py [--seeds 5] [--trials 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from nas.evaluators import get_evaluator
from nas.objective import Objective
from nas.strategies import make_strategy
from search_spaces import MnasNetSpace

STRATEGIES = ["random", "evolution", "ppo", "nni-evolution", "nni-tpe"]
CONFIG = {"score": "naswot", "resolution": 16, "batch": 8, "dataset": "digits", "seed": 0, "threads": 1}


def options(name: str, trials: int) -> dict:
    population = max(4, trials // 4)
    return {"evolution": {"population": population, "sample": max(2, population // 3)},
            "nni-evolution": {"population": population, "sample": max(2, population // 3), "mutation_prob": 0.1},
            "ppo": {"batch": 5, "lr": 0.02},
            "nni-tpe": {"startup": max(5, trials // 3)}}.get(name, {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    space, evaluate = MnasNetSpace(), get_evaluator("zero-cost")
    objective = Objective.create(400e6, "soft")
    cache: dict[str, float] = {}

    def reward(tokens: list[int]) -> float:
        key = json.dumps(tokens)
        if key not in cache:
            arch = space.decode(tokens)
            cache[key] = objective.reward(evaluate(arch, CONFIG)["metric"], arch.cost().macs)
        return cache[key]

    results: dict[str, dict[str, list[float]]] = {}
    for name in STRATEGIES:
        start = time.perf_counter()
        best, late = [], []
        for seed in range(args.seeds):
            strategy = make_strategy(name, space, seed=seed, **options(name, args.trials))
            rewards = []
            for _ in range(args.trials):
                trial_id, tokens = strategy.propose()
                rewards.append(reward(tokens))
                strategy.observe(trial_id, rewards[-1])
            best.append(max(rewards))
            late.append(statistics.mean(rewards[-max(1, args.trials // 3):]))
        results[name] = {"best": best, "late": late, "seconds": [time.perf_counter() - start]}
        print(f"{name}: {statistics.mean(best):.3f}", flush=True)

    base = statistics.mean(results["random"]["best"])
    print(f"\n{args.trials} trials per run, {args.seeds} seeds; reward = NASWOT·(MACs/400M)^-0.07 "
          f"(zero-cost: digits 16 px, batch 8); {len(cache)} distinct archs evaluated\n")
    print("| strategy | mean best reward | std | vs random | mean reward, last third | wall s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        mean = statistics.mean(r["best"])
        std = statistics.stdev(r["best"]) if len(r["best"]) > 1 else 0.0
        print(f"| {name} | {mean:.3f} | {std:.3f} | {mean / base:.4f}× | {statistics.mean(r['late']):.3f} | "
              f"{r['seconds'][0]:.0f} |")


if __name__ == "__main__":
    main()
