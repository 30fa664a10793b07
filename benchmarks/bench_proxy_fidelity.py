"""Fidelity of cheap evaluators against the converged reference set (Kendall τ, Spearman ρ).

For every architecture in results/reference-set/reference.jsonl (accuracy averaged over its
seeds), scores it with: the b0-local proxy and alternative proxy configs (2 seeds each; the proxy
input resolution follows each architecture's resolution factor, as in the reference), the
zero-cost proxies NASWOT and synflow, and plain MACs and params. Reports τ and ρ against the
reference accuracy with p-values, each proxy's own seed-to-seed τ, the reference's seed-to-seed τ
(the ceiling) and median seconds per trial. Scores are cached in --work (resumable; committed).

    python benchmarks/bench_proxy_fidelity.py [--proxies b0-local,mnist-b0-local,...] [--seeds 0,1]
        [--replay-seeds 2,3] [--half even|odd] [--jobs 1] [--no-zero-cost]

b0-local's proxy is the reference's own run stopped after one epoch: scored with a reference row's
seed it would repeat that row's first epoch, so it (any proxy that replays the reference) is scored
with --replay-seeds, which must differ from the reference's seeds.

Near the target it prints the same τ within MACs windows around --target (±25% and the search's ±10%
band), beside the reference's own seed-to-seed τ there: a search ranks candidates in the band only,
so the whole-set τ (which a 150M-vs-800M pair helps) is not the fidelity a search meets.

With 4 or more seeds it also prints, per proxy, τ against the reference of the mean over 1, 2, 4, ...
seeds, and the seed-to-seed τ of those means (split halves): is the gap to the reference noise
(more seeds close it) or disagreement (they do not)?
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from math import isnan, nan
from pathlib import Path
from typing import Any

from scipy.stats import kendalltau, spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nas.evaluators import get_evaluator  # noqa: E402
from nas.presets import FORMER_B0_LOCAL_PROXIES, get_preset  # noqa: E402
from nas.reference import (  # noqa: E402
    FIDELITY_FILE,
    FIDELITY_SCHEMA,
    REFERENCE_CONFIG,
    REFERENCE_FILE,
    read_reference,
)
from scaling.grid import proxy_resolution  # noqa: E402
from search_spaces import Arch, load_arch  # noqa: E402
from search_spaces.atomic import write_json_atomic  # noqa: E402

B0_LOCAL_PRESET = get_preset("b0-local")
B0_LOCAL = B0_LOCAL_PRESET["evaluator_configs"]["proxy"]
INIT = {"classifier_init": "zero", "zero_init_residual": True}
PROXIES: dict[str, dict[str, Any]] = {
    "b0-local": B0_LOCAL,  # the reference run's first epoch, scored by TSE (since 2026-12-01)
    # b0-local 2026-11-30 to 12-01 (cluttered MNIST, 5,000 images x 2 epochs) and before (plain MNIST, 3,000 x 2)
    **FORMER_B0_LOCAL_PROXIES,
    "old-b0-local": {"dataset": "digits", "resolution": 32, "subset": 600, "epochs": 2, "batch": 32, "threads": 1},
    "digits-init": {"dataset": "digits", "resolution": 32, "subset": 1200, "epochs": 3, "batch": 64, "lr": 0.006,
                    "threads": 1, **INIT},
    "cluttered-3k2": {"dataset": "mnist-cluttered", "resolution": 32, "subset": 3000, "epochs": 2, "batch": 64,
                      "lr": 0.006, "val_size": 1000, "threads": 1, **INIT},  # the MNIST proxy's budget
    "mnist-stem-s1": {"dataset": "mnist", "resolution": 32, "subset": 2000, "epochs": 2, "batch": 64, "lr": 0.006,
                      "drop_strides": 1, "threads": 1, **INIT},
}
ZERO_COST = {"dataset": "digits", "resolution": 32, "batch": 32, "threads": 1}
# the zero-cost scores on digits (as measured first) and on the reference's own task
ZERO_COST_SCORES = {f"{score}{suffix}": {**ZERO_COST, **task, "score": score}
                    for score in ("naswot", "synflow")
                    for suffix, task in (("", {}), ("-cluttered", {"dataset": "mnist-cluttered"}))}


def _score(job: tuple[str, str, dict, dict]) -> dict[str, Any]:
    name, key, arch_dict, config = job
    arch = Arch.from_dict(arch_dict)
    evaluator = "proxy" if name in PROXIES else "zero-cost"
    result = get_evaluator(evaluator)(arch, config)
    return {"name": name, "key": key, "seed": config.get("seed", 0), "metric": result["metric"],
            "accuracy": result.get("accuracy"), "train_loss": result.get("train_loss"),
            "mean_train_loss": result.get("mean_train_loss"), "val_loss": result.get("val_loss"),
            "seconds": result["seconds"], "config": config}


def replays_reference(config: dict[str, Any]) -> bool:
    """Whether a proxy trains the reference's own run (REFERENCE_CONFIG, stopped sooner or scored
    otherwise): with a reference row's seed its steps are that row's first steps."""
    def training(options: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in options.items() if k not in ("stop_after", "score", "bn_batches")}

    return training(config) == training(REFERENCE_CONFIG)


def truncation_curve(rows: list[Any]) -> list[str]:
    """The reference's own run stopped after k epochs (what b0-local's proxy is at k = 1), from its rows
    alone: τ of the epoch-k training loss of one seed against the other seed's final accuracy (no row
    is compared with itself), the loss's seed-to-seed τ, and the run's seconds to epoch k."""
    by_key: dict[str, dict[int, Any]] = {}
    for row in rows:
        by_key.setdefault(row.key, {})[row.seed] = row
    pairs = [seeds for seeds in by_key.values() if len(seeds) >= 2]
    if len(pairs) < 3:
        return []
    first, second = sorted(pairs[0])[:2]
    epochs = min(len(p[s].epoch_losses) for p in pairs for s in (first, second))
    lines = [f"The reference run stopped after k epochs, scored by that epoch's mean training loss ({len(pairs)} "
             "architectures, seeds compared across; seconds: the reference's, 2 jobs on 2 cores):", "",
             "| epochs trained | τ vs the other seed's final accuracy | seed-to-seed τ of the loss | median s |",
             "|---|---|---|---|"]
    for k in range(1, epochs + 1):
        vs_other = statistics.mean(
            -kendalltau([p[a].epoch_losses[k - 1] for p in pairs], [p[b].accuracy for p in pairs]).statistic
            for a, b in ((first, second), (second, first)))
        seeds_tau = kendalltau([p[first].epoch_losses[k - 1] for p in pairs],
                               [p[second].epoch_losses[k - 1] for p in pairs]).statistic
        seconds = statistics.median(p[s].seconds * k / len(p[s].epoch_losses) for p in pairs for s in (first, second))
        lines.append(f"| {k} | {vs_other:.3f} | {seeds_tau:.3f} | {seconds:.0f} |")
    final = kendalltau([p[first].accuracy for p in pairs], [p[second].accuracy for p in pairs]).statistic
    lines.append(f"| {epochs}, final accuracy | {final:.3f} | – | – |")
    return lines


def cache_key(key: str, config: dict[str, Any]) -> str:
    """A score's cache key: the architecture and the full config (any proxy name)."""
    return json.dumps([key, config], sort_keys=True)


def correlate(xs: list[float], ys: list[float]) -> tuple[float, float, float, float]:
    tau = kendalltau(xs, ys)
    rho = spearmanr(xs, ys)
    return float(tau.statistic), float(tau.pvalue), float(rho.statistic), float(rho.pvalue)


def averaging(name: str, per_key: dict[str, dict[int, dict]], keys: list[str], seeds: list[int],
              truth: list[float]) -> str:
    """τ vs the reference of the mean over the first n seeds (n = 1, 2, 4, ...; for n = 1 the mean of
    each seed's τ), and the τ between the means of the first and the next n seeds."""
    def mean_of(group: list[int]) -> list[float]:
        return [statistics.mean(per_key[k][seed]["metric"] for seed in group) for k in keys]

    parts, n = [], 1
    while n <= len(seeds):
        groups = [seeds[i:i + n] for i in range(0, len(seeds) - n + 1, n)]
        vs_reference = statistics.mean(kendalltau(mean_of(group), truth).statistic for group in groups)
        halves = (kendalltau(mean_of(groups[0]), mean_of(groups[1])).statistic if len(groups) > 1 else float("nan"))
        parts.append(f"{n} seed{'s' if n > 1 else ''}: τ vs reference {vs_reference:.3f}, seed-to-seed τ {halves:.3f}")
        n *= 2
    return f"{name}, averaging seeds ({len(keys)} architectures): " + "; ".join(parts)


def reference_seed_tau(reference: dict[str, list[float]], keys: list[str]) -> float:
    """Kendall τ of the reference's first seed against its second over `keys` (each with ≥ 2 seeds)."""
    return float(kendalltau([reference[k][0] for k in keys], [reference[k][1] for k in keys]).statistic)


NEAR_WINDOWS = (0.25, B0_LOCAL_PRESET["band"])  # ±25% of the target, and the search's own band


def near_target(names: list[str], scores: dict[str, dict[str, dict[int, dict]]], reference: dict[str, list[float]],
                macs: dict[str, float], target: float) -> dict[str, list[dict[str, float]]]:
    """Per evaluator (and "reference": seed 0 against seed 1, its ceiling there), per window w of
    NEAR_WINDOWS: Kendall τ of its seed mean against the reference mean over the architectures within
    T·(1 ± w) MACs, as {"target", "window", "archs", "tau"} (tau None under 3 architectures)."""
    inside = [[k for k in reference if abs(macs[k] - target) <= w * target] for w in NEAR_WINDOWS]

    def tau(xs: list[float], ys: list[float]) -> float:
        return float(kendalltau(xs, ys).statistic) if len(xs) > 2 else nan

    def cell(window: float, keys: list[str], value: float) -> dict[str, float]:
        return {"target": target, "window": window, "archs": len(keys), "tau": None if isnan(value) else value}

    table = {name: [cell(w, keys, tau([statistics.mean(r["metric"] for r in scores[name][k].values()) for k in keys],
                                      [statistics.mean(reference[k]) for k in keys]))
                     for w, keys in zip(NEAR_WINDOWS, inside, strict=True)] for name in names}
    paired = [[k for k in keys if len(reference[k]) >= 2] for keys in inside]
    table["reference"] = [cell(w, keys, reference_seed_tau(reference, keys) if len(keys) > 2 else nan)
                          for w, keys in zip(NEAR_WINDOWS, paired, strict=True)]
    return table


def near_target_lines(table: dict[str, list[dict[str, float]]]) -> list[str]:
    """near_target's figures as a Markdown table."""
    windows = table["reference"]
    lines = ["| evaluator | " + " | ".join(f"τ within ±{100 * c['window']:.0f}% of {c['target'] / 1e6:.0f}M "
                                          f"({c['archs']} archs)" for c in windows) + " |",
             "|---|" + "---|" * len(windows)]
    for name, cells in table.items():
        label = "reference, seed 0 vs seed 1" if name == "reference" else name
        lines.append(f"| {label} | " + " | ".join("–" if c["tau"] is None else f"{c['tau']:.3f}" for c in cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--proxies", default="b0-local,cluttered-5k2,mnist-b0-local,old-b0-local,digits-init",
                        help=f"comma list of {', '.join(PROXIES)}")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--replay-seeds", default="2,3",
                        help="seeds of a proxy that replays the reference's own run (b0-local): with a reference "
                             "row's seed it repeats that row's first epoch, so it is scored with other seeds")
    parser.add_argument("--reference", default=str(REFERENCE_FILE))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--target", type=float, default=float(B0_LOCAL_PRESET["target"]),
                        help="MACs target of the near-the-target table (default b0-local's)")
    parser.add_argument("--half", choices=("all", "even", "odd"), default="all",
                        help="score every other reference architecture (sorted keys): choose a proxy on one half, "
                             "confirm it on the other")
    parser.add_argument("--work", default=str(ROOT / "results" / "reference-set" / "work" / "fidelity"),
                        help="score cache (measured data, committed with the reference set: resumable across sessions)")
    parser.add_argument("--no-write", dest="write", action="store_false",
                        help=f"do not record the figures in {FIDELITY_FILE.relative_to(ROOT)} (read by reports)")
    parser.add_argument("--no-zero-cost", dest="zero_cost", action="store_false",
                        help="score the proxies only (no NASWOT / synflow; implies --no-write)")
    args = parser.parse_args()
    rows = read_reference(args.reference)
    reference: dict[str, list[float]] = {}
    archs: dict[str, Arch] = {}
    for row in rows:
        reference.setdefault(row.key, []).append(row.accuracy)
        archs[row.key] = row.architecture
    keys = sorted(reference)
    if args.half != "all":
        keys = keys[args.half == "odd"::2]
    base = load_arch("efficientnet-b0")
    seeds = [int(s) for s in args.seeds.split(",")]
    names = args.proxies.split(",")
    unknown = [name for name in names if name not in PROXIES]
    if unknown:
        parser.exit(2, f"bench_proxy_fidelity: unknown proxy {unknown[0]!r}; known: {', '.join(PROXIES)}\n")
    replay_seeds = [int(s) for s in args.replay_seeds.split(",")]
    if set(replay_seeds) & {row.seed for row in rows}:
        parser.exit(2, "bench_proxy_fidelity: --replay-seeds must differ from the reference's seeds "
                       f"{sorted({row.seed for row in rows})}\n")
    seeds_of = {name: replay_seeds if replays_reference(PROXIES[name]) else seeds for name in names}
    jobs = []
    for name in names:
        for key in keys:
            for seed in seeds_of[name]:
                config = {**PROXIES[name], "seed": seed}
                config["resolution"] = proxy_resolution(base, archs[key], config, True)
                jobs.append((name, key, archs[key].to_dict(), config))
    others = ZERO_COST_SCORES if args.zero_cost else {}
    for score, config in others.items():
        for key in keys:
            for seed in seeds:
                jobs.append((score, key, archs[key].to_dict(), {**config, "seed": seed}))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    ledger = work / "scores.jsonl"
    done: dict[str, dict] = {}
    if ledger.is_file():
        for line in ledger.read_text().splitlines():
            row = json.loads(line)
            done[cache_key(row["key"], row["config"])] = row
    todo = [job for job in jobs if cache_key(job[1], job[3]) not in done]
    print(f"{len(todo)} scores to compute ({len(jobs) - len(todo)} cached)", file=sys.stderr, flush=True)
    with ProcessPoolExecutor(args.jobs) as pool, ledger.open("a") as handle:
        for row in pool.map(_score, todo):
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
            done[cache_key(row["key"], row["config"])] = row
            print(f"{row['name']:>14} {row['key']:>18} s{row['seed']} {row['metric']:.4g} ({row['seconds']:.1f}s)",
                  file=sys.stderr, flush=True)
    scores: dict[str, dict[str, dict[int, dict]]] = {}
    for job in jobs:
        row = done[cache_key(job[1], job[3])]
        scores.setdefault(job[0], {}).setdefault(job[1], {})[row["seed"]] = row
    truth = [statistics.mean(reference[k]) for k in keys]
    two_seeds = [k for k in keys if len(reference[k]) >= 2]
    shown = Path(args.reference).resolve()
    shown = shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown
    print(f"\nReference: {len(keys)} architectures ({len(rows)} rows) from {shown}; "
          f"best {max(truth):.4f}, median {statistics.median(truth):.4f}")
    plateaued = [r for r in rows if r.epoch_losses and (r.epoch_losses[-1] < 0.1 or (
        len(r.epoch_losses) > 1 and r.epoch_losses[-2] - r.epoch_losses[-1] <= 0.25 * r.epoch_losses[-2]))]
    print(f"Converged (final training loss < 0.1, or the last epoch within 25% of the one before): "
          f"{len(plateaued)}/{len(rows)} rows; final training loss median "
          f"{statistics.median(r.train_loss for r in rows):.3f}, max {max(r.train_loss for r in rows):.3f}")
    means = dict(zip(keys, truth, strict=True))
    if "efficientnet-b0" in means:
        scaled = {k: means[k] - means["efficientnet-b0"] for k in keys if k.startswith("b0-")}
        print("B0 scaled to 2x MACs vs B0 (accuracy points): "
              + ", ".join(f"{k} {100 * v:+.2f}" for k, v in sorted(scaled.items())))
    print(f"Best minus median: {100 * (max(truth) - statistics.median(truth)):.2f} points")
    if len(two_seeds) > 2:
        ref_tau = reference_seed_tau(reference, two_seeds)
        print(f"Reference seed-to-seed τ over {len(two_seeds)} architectures with 2 seeds: {ref_tau:.3f} (the ceiling)")
    record: dict[str, Any] = {"schema": FIDELITY_SCHEMA, "reference_archs": len(keys), "reference_rows": len(rows),
                              "command": "python benchmarks/bench_proxy_fidelity.py", "proxies": [], "others": []}
    print("\n| evaluator | seeds | τ vs reference (p) | ρ vs reference (p) | seed-to-seed τ | median s/trial |")
    print("|---|---|---|---|---|---|")
    for name in [*names, *others]:
        used = seeds_of.get(name, seeds)
        mean = [statistics.mean(r["metric"] for r in scores[name][k].values()) for k in keys]
        tau, tau_p, rho, rho_p = correlate(mean, truth)
        seed_tau = kendalltau([scores[name][k][used[0]]["metric"] for k in keys],
                              [scores[name][k][used[1]]["metric"] for k in keys]).statistic if len(used) > 1 else 0
        seconds = statistics.median(r["seconds"] for k in keys for r in scores[name][k].values())
        print(f"| {name} | {','.join(map(str, used))} | {tau:.3f} ({tau_p:.1g}) | {rho:.3f} ({rho_p:.1g}) | "
              f"{seed_tau:.3f} | {seconds:.1f} |")
        entry = {"name": name, "seeds": used, "tau": tau, "tau_p": tau_p, "rho": rho, "rho_p": rho_p,
                 "seed_tau": float(seed_tau), "median_seconds": seconds}
        if name in PROXIES:
            record["proxies"].append({**entry, "config": PROXIES[name]})
        else:
            record["others"].append(entry)
    for label, values in (("MACs", [archs[k].cost().macs for k in keys]),
                          ("params", [archs[k].cost().params for k in keys])):
        tau, tau_p, rho, rho_p = correlate(values, truth)
        print(f"| {label} | – | {tau:.3f} ({tau_p:.1g}) | {rho:.3f} ({rho_p:.1g}) | 1 | 0 |")
        record["others"].append({"name": label, "tau": tau, "tau_p": tau_p, "rho": rho, "rho_p": rho_p})
    print("\nNear the target (each evaluator's seed mean vs the reference mean, as above):\n")
    near = near_target([*names, *others], scores, {k: reference[k] for k in keys},
                       {k: archs[k].cost().macs for k in keys}, args.target)
    print("\n".join(near_target_lines(near)))
    for entry in record["proxies"]:
        entry["near_target"] = near[entry["name"]]
    averaged = [name for name in names if len(seeds_of[name]) >= 4]
    if averaged:
        print()
        for name in averaged:
            print(averaging(name, scores[name], keys, seeds_of[name], truth))
    curve = truncation_curve(rows)
    if curve:
        print("\n" + "\n".join(curve))
    if args.write and args.zero_cost:  # (the record reports read has the zero-cost rows)
        write_json_atomic(FIDELITY_FILE, record)
    for name in names:
        print(f"\n{name}: {json.dumps(PROXIES[name], sort_keys=True)}")


if __name__ == "__main__":
    main()
