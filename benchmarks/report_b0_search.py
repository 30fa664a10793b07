"""Issue 9 part 5: the b0-local search re-run on the sound proxy, and its baselines retrained at the
reference budget beside B0's and MnasNet-A1's rows of the converged reference set.

For each seed: `effnas search --preset b0-local --seed S` (60 PPO trials, soft reward, candidates
within ±10% of 400M) and `effnas evaluate RUN --reference --seed R` for its best (reference-eval
files). `--run` runs what is missing (searches resume; finished evaluations are kept), so the
report can be spread over sessions; without it the table shows what is there.

    python benchmarks/report_b0_search.py [--seeds 0,1,2] [--reference-seeds 0] [--run]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nas.reference import read_reference  # noqa: E402
from search_spaces.atomic import write_text_atomic  # noqa: E402

EFFNAS = str(Path(sys.executable).with_name("effnas"))
TARGET, BAND = 400e6, 0.1


def run_missing(folder: Path, seed: int, reference_seeds: list[int]) -> None:
    """Run (or resume) the search of `seed`, then each missing reference evaluation of its best."""
    resume = ["--resume"] if (folder / "config.json").exists() else []
    subprocess.run([EFFNAS, "search", "--preset", "b0-local", "--seed", str(seed), "--out", str(folder), "--quiet",
                    *resume], check=True, stdout=subprocess.DEVNULL)
    for reference_seed in reference_seeds:
        path = eval_path(folder, reference_seed)
        if not path.exists():
            out = subprocess.run([EFFNAS, "evaluate", str(folder), "--reference", "--seed", str(reference_seed),
                                  "--json", "--quiet"], check=True, capture_output=True, text=True).stdout
            write_text_atomic(path, out)


def eval_path(folder: Path, reference_seed: int) -> Path:
    return folder / f"reference-eval-seed{reference_seed}.json"


def reference_by_key() -> tuple[dict[str, dict[int, float]], dict[str, str]]:
    """Reference accuracy of every architecture of the set, by seed; and each one's group."""
    out: dict[str, dict[int, float]] = {}
    groups: dict[str, str] = {}
    for row in read_reference():
        out.setdefault(row.key, {})[row.seed] = row.accuracy
        groups[row.key] = row.group
    return out, groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--reference-seeds", default="0")
    parser.add_argument("--out", default=str(ROOT / "results" / "b0-local-tse-search"))
    parser.add_argument("--run", action="store_true", help="run the missing searches and evaluations")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    reference_seeds = [int(s) for s in args.reference_seeds.split(",")]
    root = Path(args.out)
    if args.run:
        for seed in seeds:
            run_missing(root / f"seed-{seed}", seed, reference_seeds)

    named, groups = reference_by_key()
    print("| search seed | trials | best trial | MACs | within ±10% of 400M | proxy metric | reward | "
          + " | ".join(f"reference acc (seed {r}) | train loss" for r in reference_seeds) + " |")
    print("|---" * (7 + 2 * len(reference_seeds)) + "|")
    found: list[float] = []
    for seed in seeds:
        folder = root / f"seed-{seed}"
        best_path = folder / "best.json"
        if not best_path.exists():
            print(f"| {seed} | (not run) |" + " |" * (6 + 2 * len(reference_seeds)))
            continue
        best = json.loads(best_path.read_text())
        trials = sum(1 for _ in (folder / "trials.jsonl").open())
        inside = abs(best["macs"] / TARGET - 1) <= BAND
        cells = [str(seed), str(trials), best["trial"], f"{best['macs'] / 1e6:.0f}M", "yes" if inside else "**no**",
                 f"{best['metric']:.3f}", f"{best['reward']:.4f}"]
        for reference_seed in reference_seeds:
            path = eval_path(folder, reference_seed)
            if path.exists():
                result = json.loads(path.read_text())
                cells += [f"{result['accuracy']:.4f}", f"{result['train_loss']:.3f}"]
                found.append(result["accuracy"])
            else:
                cells += ["(not run)", ""]
        print("| " + " | ".join(cells) + " |")
    print()
    for key in ("efficientnet-b0", "mnasnet-a1", "plain-cnn"):
        by_seed = named.get(key, {})
        shown = ", ".join(f"seed {s}: {a:.4f}" for s, a in sorted(by_seed.items()))
        print(f"reference set, {key}: {shown or '(no row)'}")
    random = sorted(statistics.mean(named[k].values()) for k in named if groups[k] == "random")
    if random:
        print(f"reference set, {len(random)} random members of the space: median {statistics.median(random):.4f}, "
              f"best {random[-1]:.4f}")
    if found:
        bar = max(statistics.mean(named.get(k, {0: float('nan')}).values()) for k in ("efficientnet-b0", "mnasnet-a1"))
        wins = sum(accuracy > bar for accuracy in found)
        print(f"searched baselines above both B0 and A1 (best of their reference means, {bar:.4f}): {wins} of "
              f"{len(found)} evaluations; mean {statistics.mean(found):.4f}")


if __name__ == "__main__":
    main()
