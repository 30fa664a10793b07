"""Does the proxy evaluator train the space's networks? Variants of the proxy side by side.

For each proxy variant (the b0-local default and the candidate fixes of docs/PROXY.md) and each
architecture (EfficientNet-B0, MnasNet-A1, MobileNetV2, random members of the MnasNet space with
150M-800M MACs at 224 px, and a plain 3-layer CNN as the baseline), trains with 2 seeds and reports:
final training loss (mean of the last epoch, nats; chance is ln 10 = 2.30), held-out accuracy,
the plain CNN's accuracy, seed-to-seed Kendall τ over the space's architectures, and median
seconds per trial (one thread). Rows are cached in --work (an interrupted run continues).

    python benchmarks/bench_proxy_trains.py [--variants default,fixed] [--archs acceptance] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nas.evaluators import get_evaluator  # noqa: E402
from nas.presets import FORMER_B0_LOCAL_PROXIES, get_preset  # noqa: E402
from nas.reference import REFERENCE_CONFIG  # noqa: E402
from search_spaces import Arch, MnasNetSpace, load_arch  # noqa: E402

PLAIN_CNN = ["cn_r1_k3_s11_i32_o32", "cn_r1_k3_s22_i32_o64", "cn_r1_k3_s22_i64_o128"]
NAMED = ("efficientnet-b0", "mnasnet-a1", "mobilenet-v2")
# The old b0-local proxy, then one candidate fix at a time, then the combination (docs/PROXY.md).
OLD = {"dataset": "digits", "resolution": 32, "subset": 600, "epochs": 2, "batch": 32, "threads": 1}
VARIANTS: dict[str, dict[str, Any]] = {
    "old": OLD,
    "zero-head": {**OLD, "classifier_init": "zero"},
    "zero-res": {**OLD, "zero_init_residual": True},
    "lr1e-3": {**OLD, "lr": 0.001},
    "clip": {**OLD, "clip_grad": 1.0},
    "smooth": {**OLD, "label_smoothing": 0.1},
    "stride1": {**OLD, "drop_strides": 1},
    "stride1-mnist": {**OLD, "drop_strides": 1, "dataset": "mnist"},
    "init": {**OLD, "classifier_init": "zero", "zero_init_residual": True},
    "init-stride1": {**OLD, "classifier_init": "zero", "zero_init_residual": True, "drop_strides": 1},
}
INIT = {**OLD, "classifier_init": "zero", "zero_init_residual": True}
VARIANTS.update({
    "init-digits-1200x3": {**INIT, "subset": 1200, "epochs": 3},
    "init-mnist-2000x2": {**INIT, "dataset": "mnist", "subset": 2000, "epochs": 2},
    "init-clut-2000x3": {**INIT, "dataset": "mnist-cluttered", "subset": 2000, "epochs": 3},
    "init-digits-1200x3-lr6e-3": {**INIT, "subset": 1200, "epochs": 3, "lr": 0.006},
    "init-digits-1200x3-b64": {**INIT, "subset": 1200, "epochs": 3, "batch": 64, "lr": 0.006},
    "init-digits-1200x3-sgd": {**INIT, "subset": 1200, "epochs": 3, "optimizer": "sgd", "lr": 0.1},
    "init-mnist-2000x2-b64": {**INIT, "dataset": "mnist", "subset": 2000, "epochs": 2, "batch": 64, "lr": 0.006},
    "init-mnist-2000x3-b64": {**INIT, "dataset": "mnist", "subset": 2000, "epochs": 3, "batch": 64, "lr": 0.006},
    "init-mnist-3000x2-b64": {**INIT, "dataset": "mnist", "subset": 3000, "epochs": 2, "batch": 64, "lr": 0.006},
    "init-mnist-2000x3-b64-lr1e-2": {**INIT, "dataset": "mnist", "subset": 2000, "epochs": 3, "batch": 64,
                                     "lr": 0.01},
    "init-s1-digits-1200x3-b64": {**INIT, "subset": 1200, "epochs": 3, "batch": 64, "lr": 0.006, "drop_strides": 1},
    # b0-local before 2026-11-30 (plain MNIST), then until 2026-12-01 (cluttered MNIST, held-out accuracy);
    # "default" is b0-local's proxy now (the reference run's first epoch, scored by TSE)
    **FORMER_B0_LOCAL_PROXIES,
    "init-s1-mnist-2000x2-b64": {**INIT, "dataset": "mnist", "subset": 2000, "epochs": 2, "batch": 64, "lr": 0.006,
                                 "drop_strides": 1},
    # the reference set's own (converged) training with the stem at stride 1 (its stride-2 rows are the reference
    # set's): does a proportionate geometry put the space's named networks ahead of the plain CNN once converged?
    "reference-stride1": {**REFERENCE_CONFIG, "drop_strides": 1},
})
# --archs: (name prefix, space seed, random members) for archs_for
ARCH_SETS = {"acceptance": ("rand", 2026, 17), "diagnostic": ("diag", 9001, 5), "named": ("rand", 2026, 0)}


def archs_for(kind: str, seed: int, count: int) -> list[tuple[str, Arch]]:
    """The named three, `count` random members in 150M-800M MACs (space seed `seed`), the plain CNN."""
    out = [(name, load_arch(name)) for name in NAMED]
    space, rng = MnasNetSpace(), np.random.default_rng(seed)
    found = 0
    while found < count:
        arch = space.sample(rng)
        if 150e6 <= arch.cost().macs <= 800e6:
            out.append((f"{kind}-{seed}-{found}", arch))
            found += 1
    out.append(("plain-cnn", load_arch(PLAIN_CNN)))
    return out


def _run(job: tuple[str, str, dict, int, dict]) -> dict[str, Any]:
    variant, name, arch_dict, seed, config = job
    result = get_evaluator("proxy")(Arch.from_dict(arch_dict), {**config, "seed": seed})
    return {"variant": variant, "arch": name, "seed": seed, "macs": Arch.from_dict(arch_dict).cost().macs,
            **{k: result[k] for k in ("metric", "accuracy", "train_loss", "seconds", "proxy")}}


def score(row: dict[str, Any]) -> float:
    """What the variant ranks by: its metric (rows from before `metric` was kept: accuracy, which it was)."""
    return row.get("metric", row["accuracy"])


def summarise(variant: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    chance = math.log(10)
    space_rows = [r for r in rows if r["arch"] != "plain-cnn"]
    by = {(r["arch"], r["seed"]): r for r in rows}
    names = sorted({r["arch"] for r in rows if r["arch"] not in ("plain-cnn", *NAMED)})
    seeds = sorted({r["seed"] for r in rows})
    tau = float("nan")
    if len(seeds) >= 2:
        pairs = [(score(by[(n, seeds[0])]), score(by[(n, seeds[1])])) for n in (*NAMED, *names)
                 if (n, seeds[0]) in by and (n, seeds[1]) in by]
        tau = kendalltau(*zip(*pairs, strict=True)).statistic if len(pairs) >= 5 else float("nan")

    def mean_acc(name: str) -> float:
        values = [r["accuracy"] for r in rows if r["arch"] == name]
        return sum(values) / len(values) if values else float("nan")

    losses = [r["train_loss"] for r in space_rows]
    return {
        "variant": variant, "trials": len(rows), "above_half_chance": sum(loss > chance / 2 for loss in losses),
        "median_loss": statistics.median(losses), "max_loss": max(losses),
        "b0": mean_acc("efficientnet-b0"), "a1": mean_acc("mnasnet-a1"), "mnv2": mean_acc("mobilenet-v2"),
        "plain": mean_acc("plain-cnn"), "median_acc": statistics.median(r["accuracy"] for r in space_rows),
        "tau_seeds": tau, "median_seconds": statistics.median(r["seconds"] for r in space_rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="old,mnist-b0-local,cluttered-5k2,default",
                        help=f"comma list of {', '.join(VARIANTS)}, default")
    parser.add_argument("--archs", default="acceptance", choices=tuple(ARCH_SETS),
                        help="acceptance: 17 random members (space seed 2026); diagnostic: 5 (space seed 9001), "
                             "used to choose the fixes; named: no random members (the named three and the plain CNN)")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", default="results/bench/proxy_trains")
    args = parser.parse_args()
    variants = {**VARIANTS, "default": get_preset("b0-local")["evaluator_configs"]["proxy"]}
    chosen = args.variants.split(",")
    archs = archs_for(*ARCH_SETS[args.archs])
    seeds = [int(s) for s in args.seeds.split(",")]
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    ledger = work / "rows.jsonl"
    done: dict[tuple, dict] = {}
    if ledger.is_file():
        for line in ledger.read_text().splitlines():
            row = json.loads(line)
            done[(row["arch"], row["seed"], json.dumps(row["config"], sort_keys=True))] = row  # any variant name
    jobs = []
    for variant in chosen:
        for name, arch in archs:
            for seed in seeds:
                key = (name, seed, json.dumps(variants[variant], sort_keys=True))
                if key not in done:
                    jobs.append((variant, name, arch.to_dict(), seed, variants[variant]))
    print(f"{len(jobs)} trials to run ({len(done)} cached)", file=sys.stderr, flush=True)
    with ProcessPoolExecutor(args.jobs) as pool, ledger.open("a") as handle:
        for job, row in zip(jobs, pool.map(_run, jobs), strict=True):
            row["config"] = job[4]
            handle.write(json.dumps(row) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
            done[(row["arch"], row["seed"], json.dumps(job[4], sort_keys=True))] = row
            print(f"{row['variant']:>14} {row['arch']:>16} s{row['seed']} loss {row['train_loss']:.3f} "
                  f"acc {row['accuracy']:.3f} {row['seconds']:.1f}s", file=sys.stderr, flush=True)
    names = {name for name, _ in archs}
    print(f"\n{len(archs) - 1} architectures ({', '.join(NAMED)}, {len(archs) - 4} random members with "
          f"150M-800M MACs at 224 px) + the plain CNN, seeds {seeds}; chance loss ln 10 = {math.log(10):.2f}\n")
    print("| variant | trials | loss > ln10/2 | median / max train loss | B0 | A1 | MNv2 | plain CNN | "
          "median acc | seed τ of the score | median s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for variant in chosen:
        config = json.dumps(variants[variant], sort_keys=True)
        rows = [r for k, r in done.items() if k[2] == config and k[0] in names and k[1] in seeds]
        s = summarise(variant, rows)
        print(f"| {variant} | {s['trials']} | {s['above_half_chance']} | {s['median_loss']:.3f} / {s['max_loss']:.3f} "
              f"| {s['b0']:.3f} | {s['a1']:.3f} | {s['mnv2']:.3f} | {s['plain']:.3f} | {s['median_acc']:.3f} "
              f"| {s['tau_seeds']:.2f} | {s['median_seconds']:.1f} |")
    if "default" in chosen:
        print(f"\ndefault = b0-local's proxy: {rows[0]['proxy'] if rows else ''}")


if __name__ == "__main__":
    main()
