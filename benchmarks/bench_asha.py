"""Early stopping at an equal wall-clock budget: ASHA vs no scheduler (issue 10 part 3).

Each (mode, seed) is one `effnas search` on the embedded local Ray with 2 workers, stopped
(SIGTERM: Ray shut down cleanly) when its budget of wall-clock seconds is spent: PPO (batch 6,
synchronous generations: the default schedule), soft reward, candidates within ±10% of 400M MACs,
on the b0-local proxy with (by default) 1,000 training images and 4 epochs (so that ASHA has rungs to cut at:
grace 1 epoch, reduction factor 3, rungs at epochs 1 and 3), `--scheduler asha` or none. Counted:
the trials finished within the budget (trials.jsonl, plus rows a synchronous generation still held
in generation.jsonl), per hour; how many were stopped; the best trial by reward, its architecture's
proxy accuracy at the full budget (a stopped best is re-run to all 4 epochs inline; a completed
one's metric is that already, the per-epoch reports leaving training unchanged), the reward from
it, and — what judges "best not worse" — its accuracy at the converged reference set's budget
(`effnas evaluate --reference --seed 0`, trained inline after the runs, cached by architecture in
--out/reference-evals.jsonl); and the cost of the held-out evaluations at the rungs (before
2026-12-01: after every epoch) (Σ epoch_eval_seconds / Σ trial seconds). The budget includes
starting Ray and the workers (the same for both modes).

Resumable: each run's folder under --out gets run.json when done and is skipped afterwards (unless
it was made with another proxy config: then it runs again); a folder without it (an interrupted
run) is started again from scratch. `--limit N` runs at most N runs this call. The table is
printed from what is there.

    python benchmarks/bench_asha.py [--seeds 0,1,2] [--budget 300] [--out results/bench-asha] [--limit N]
        [--subset 1000 --epochs 4]

ASHA's saving is capped by the depth of the budget: with grace 1 and reduction factor 3, 4 epochs
give rungs at 1 and 3 (at most 4 / (16/9) = 2.25x fewer epochs a trial, before its per-epoch
evaluations), 9 epochs the full three rungs 1, 3, 9 (9 / (21/9) = 3.86x). `--epochs 9 --subset 500
--out results/bench-asha-9ep` measures that geometry at about the same images × epochs a trial.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search_spaces.atomic import append_bytes, write_text_atomic  # noqa: E402

EFFNAS = str(Path(sys.executable).with_name("effnas"))
PROXY = {"subset": 1000, "epochs": 4, "val_size": 500}  # over the b0-local preset's proxy (--subset/--epochs change it)
GRACE, REDUCTION = 1, 3
MODES = {"none": [], "asha": ["--scheduler", "asha", "--scheduler-opt", f"grace_period={GRACE}",
                              "--scheduler-opt", f"reduction_factor={REDUCTION}"]}


def measured_with() -> dict:
    """b0-local's proxy as these runs were measured (cluttered-5k2, until 2026-12-01), over b0-local's present one
    (which stops the reference run after one epoch, where ASHA has no rung to cut at): its options, and the
    present preset's that it did not set put back to their defaults."""
    from nas.evaluators.proxy import DEFAULTS
    from nas.presets import FORMER_B0_LOCAL_PROXIES

    defaults = {k: DEFAULTS[k] for k in ("stop_after", "score", "weight_decay")}
    return {**defaults, **FORMER_B0_LOCAL_PROXIES["cluttered-5k2"]}


def proxy_config() -> dict:
    """The evaluator config every run searches with (the b0-local preset's proxy with measured_with() and PROXY
    over it)."""
    from nas.presets import get_preset

    return {**get_preset("b0-local")["evaluator_configs"]["proxy"], **measured_with(), **PROXY}


def same_proxy(recorded: dict, wanted: dict) -> bool:
    """Whether two proxy configs train and score alike (every option read with its default; seed aside)."""
    from nas.evaluators.common import read_options
    from nas.evaluators.proxy import OPTIONS

    def effective(config: dict) -> dict:
        return {k: v for k, v in read_options(config, OPTIONS).items() if k != "seed"}

    return effective(recorded) == effective(wanted)


def command(mode: str, seed: int, out: Path) -> list[str]:
    args = [EFFNAS, "search", "--preset", "b0-local", "--runner", "ray", "--max-concurrent", "2", "--trials", "100000",
            "--seed", str(seed), "--strategy-opt", "batch=6", "--quiet", "--out", str(out)]
    for key, value in {**measured_with(), **PROXY}.items():
        args += ["--eval-opt", f"{key}={json.dumps(value) if isinstance(value, bool) else value}"]
    return args + MODES[mode]


def rows_of(folder: Path) -> list[dict]:
    from nas.ledger import HELD, Ledger

    rows = Ledger(folder).read(repair=False)
    seen = {row["trial"] for row in rows}
    return rows + [row for row in Ledger(folder, HELD).read(repair=False) if row["trial"] not in seen]


def full_budget(folder: Path, row: dict) -> float:
    """The proxy accuracy of `row`'s architecture trained the whole budget (re-run if it was stopped)."""
    if not row.get("stopped"):
        return row["metric"]
    from nas.runners.trial import evaluate_trial

    config = json.loads((folder / "config.json").read_text())
    return evaluate_trial(row["trial"], row["arch"], config["evaluator"], config["evaluator_config"],
                          threads=1)["metric"]


def reference_accuracy(root: Path, arch: dict) -> float:
    """`arch` trained at the reference set's budget, seed 0 (what `effnas evaluate --reference` does), cached."""
    from nas.evaluators import get_evaluator
    from nas.reference import reference_config_for
    from search_spaces import Arch

    key = json.dumps(arch, sort_keys=True)
    cache = root / "reference-evals.jsonl"
    raw = cache.read_bytes() if cache.exists() else b""
    for line in raw.decode().splitlines():
        try:
            row = json.loads(line)
        except ValueError:  # a line cut short by a killed run: that architecture is trained again
            continue
        if row["key"] == key:
            return row["accuracy"]
    architecture = Arch.from_dict(arch)
    print("  training the best at the reference budget ...", file=sys.stderr, flush=True)
    result = get_evaluator("proxy")(architecture, reference_config_for(architecture, 0))
    row = {"key": key, "accuracy": result["metric"], "train_loss": result.get("train_loss"),
           "seconds": result["seconds"]}
    cut = raw and not raw.endswith(b"\n")  # (start a new line after a cut one)
    append_bytes(cache, (("\n" if cut else "") + json.dumps(row) + "\n").encode())  # one write, fsynced
    return result["metric"]


def one_run(folder: Path, mode: str, seed: int, budget: float) -> dict:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with open(folder / "search.log", "w") as log:
        proc = subprocess.Popen(command(mode, seed, folder / "search"), stdout=log, stderr=subprocess.STDOUT,
                                cwd=ROOT)
        try:
            proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    rows = rows_of(folder / "search")
    from nas.objective import Objective
    from search_spaces import Arch

    config = json.loads((folder / "search" / "config.json").read_text())
    objective = Objective.from_config(config)
    best = max(rows, key=lambda row: row["reward"])
    accuracy = full_budget(folder / "search", best)
    seconds = sum(row["seconds"] for row in rows)
    evaluations = sum(row["details"].get("epoch_eval_seconds", 0.0) for row in rows)
    record = {"mode": mode, "seed": seed, "budget_s": budget, "trials": len(rows), "proxy": config["evaluator_config"],
              "stopped": sum(bool(row.get("stopped")) for row in rows),
              "epochs": sum(row.get("epochs", PROXY["epochs"]) for row in rows),
              "best": {"trial": best["trial"], "reward": best["reward"], "metric": best["metric"],
                       "stopped": bool(best.get("stopped")), "macs": best["macs"], "arch": best["arch"],
                       "full_budget_metric": accuracy,
                       "full_budget_reward": objective.reward(accuracy, objective.cost(Arch.from_dict(best["arch"])))},
              "epoch_eval_share": evaluations / seconds if seconds else 0.0,
              "mean_trial_s": seconds / len(rows) if rows else None,
              "load_before": load_before, "load_after": os.getloadavg()[0],
              "wall_s": time.perf_counter() - start}
    write_text_atomic(folder / "run.json", json.dumps(record, indent=1))
    return record


def rung_fractions(max_t: int) -> dict[int, float]:
    """ASHA's steady state (every rung full, results exchangeable): the share of trials that end at each
    epoch — a 1/REDUCTION share of those reaching rung GRACE·REDUCTION^k is promoted past it."""
    from nas.runners.schedulers import Scheduling

    rungs = Scheduling("asha", max_t, GRACE, REDUCTION).rung_epochs()
    shares = {rung: REDUCTION ** -k * (1 - 1 / REDUCTION) for k, rung in enumerate(rungs)}
    return {**shares, max_t: REDUCTION ** -len(rungs)}


def steady_state(root: Path, records: list[dict], seeds: list[int]) -> str:
    """ASHA / none in trials per hour if every rung were full: ASHA's mean trial seconds by the epoch a trial
    ended at (its runs pooled) weighted by `rung_fractions`, against no scheduler's mean trial seconds."""
    seconds: dict[str, dict[int, list[float]]] = {mode: {} for mode in MODES}
    for record in records:
        if record["seed"] not in seeds:
            continue
        for row in rows_of(root / f"{record['mode']}-seed-{record['seed']}" / "search"):
            seconds[record["mode"]].setdefault(row.get("epochs", PROXY["epochs"]), []).append(row["seconds"])
    shares = rung_fractions(PROXY["epochs"])
    if not seconds["none"] or any(epoch not in seconds["asha"] for epoch in shares):
        return ""
    asha = sum(share * statistics.mean(seconds["asha"][epoch]) for epoch, share in shares.items())
    none = statistics.mean(s for values in seconds["none"].values() for s in values)
    by_rung = ", ".join(f"{100 * share:.0f}% at epoch {epoch} ({statistics.mean(seconds['asha'][epoch]):.2f} s)"
                        for epoch, share in shares.items())
    return (f"- steady state (projected, every rung full): {by_rung} → {asha:.2f} s a trial against {none:.2f} s "
            f"without a scheduler: {none / asha:.2f}x trials per hour")


def table(records: list[dict], seeds: list[int]) -> str:
    lines = ["| mode | seed | trials in budget | trials/h | stopped | epochs trained | best trial | best: proxy acc "
             "(full budget) | best: reward (full budget) | best: reference acc | per-epoch eval share | "
             "load (1-min avg) |",
             "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    summary = {}
    for mode in MODES:
        mine = [r for r in records if r["mode"] == mode and r["seed"] in seeds]
        for r in sorted(mine, key=lambda r: r["seed"]):
            per_hour = r["trials"] * 3600 / r["budget_s"]
            lines.append(f"| {mode} | {r['seed']} | {r['trials']} | {per_hour:.0f} | {r['stopped']} | {r['epochs']} | "
                         f"{r['best']['trial']}{' (stopped)' if r['best']['stopped'] else ''} | "
                         f"{r['best']['full_budget_metric']:.4f} | {r['best']['full_budget_reward']:.4f} | "
                         f"{r['best'].get('reference_accuracy', float('nan')):.4f} | "
                         f"{100 * r['epoch_eval_share']:.1f}% | {r['load_before']:.1f} → {r['load_after']:.1f} |")
        if mine:
            summary[mode] = (statistics.mean(r["trials"] * 3600 / r["budget_s"] for r in mine),
                             statistics.mean(r["best"]["full_budget_metric"] for r in mine),
                             statistics.mean(r["best"]["full_budget_reward"] for r in mine),
                             statistics.mean(r["best"].get("reference_accuracy", float("nan")) for r in mine),
                             len(mine))
    lines.append("")
    for mode, (per_hour, metric, reward, reference, count) in summary.items():
        lines.append(f"- {mode}: {per_hour:.0f} trials/h, best's proxy accuracy {metric:.4f}, reward {reward:.4f}, "
                     f"reference accuracy {reference:.4f} (mean of {count} seed(s))")
    if len(summary) == 2:
        (asha_rate, asha_metric, asha_reward, asha_ref, _) = summary["asha"]
        (rate, metric, reward, ref, _) = summary["none"]
        lines.append(f"- ASHA / none: {asha_rate / rate:.2f}x trials per hour; best's reference accuracy "
                     f"{asha_ref - ref:+.4f} (proxy accuracy {asha_metric - metric:+.4f}, reward "
                     f"{asha_reward - reward:+.4f})")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--budget", type=float, default=300.0, help="wall-clock seconds per run (default 300)")
    parser.add_argument("--out", default=str(ROOT / "results" / "bench-asha"))
    parser.add_argument("--limit", type=int, default=None, help="at most N new runs this call")
    parser.add_argument("--subset", type=int, default=PROXY["subset"], help="training images a trial")
    parser.add_argument("--epochs", type=int, default=PROXY["epochs"], help="epochs a trial (ASHA's max_t)")
    args = parser.parse_args()
    PROXY.update(subset=args.subset, epochs=args.epochs)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    root = Path(args.out)
    records, ran = [], 0
    for seed in seeds:
        for mode in MODES:  # (modes interleaved, so a change of load falls on both)
            folder = root / f"{mode}-seed-{seed}"
            done = json.loads((folder / "run.json").read_text()) if (folder / "run.json").exists() else None
            if done is not None and same_proxy(done.get("proxy") or {}, proxy_config()):
                records.append(done)
                continue
            if args.limit is not None and ran >= args.limit:
                continue
            print(f"running {mode} seed {seed} for {args.budget:g} s ...", file=sys.stderr, flush=True)
            records.append(one_run(folder, mode, seed, args.budget))
            ran += 1
    for record in records:  # after the runs, so that training at the reference budget never shares their cores
        if "reference_accuracy" not in record["best"]:
            record["best"]["reference_accuracy"] = reference_accuracy(root, record["best"]["arch"])
            write_text_atomic(root / f"{record['mode']}-seed-{record['seed']}" / "run.json",
                              json.dumps(record, indent=1))
    print(table(records, seeds))
    print(steady_state(root, records, seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
