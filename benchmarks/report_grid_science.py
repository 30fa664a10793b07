"""Issue 9 part 5: EfficientNet's step 1 (the α, β, γ grid at φ = 1) and Observation 2 re-run on the
b0-local proxy, on B0 and on a searched baseline, with two proxy seeds.

Each run: `effnas grid --base BASE --evaluator proxy --config <b0-local proxy> --config seed=S
--step 0.2 --levels 2` (6 triples within |αβ²γ² − 2| ≤ 0.1, the proxy's input resolution following
each candidate's; depth / width / resolution only and compound at 2× the base MACs). `--run` runs
what is missing (a grid resumes from its ledger); the tables read the runs' grid.json.

    python benchmarks/report_grid_science.py [--out results/grid-science-tse] [--search results/b0-local-tse-search]
        [--run [--jobs 2]]

(The grids on the cluttered-MNIST accuracy proxy, b0-local from 2026-11-30 to 12-01: --out
results/grid-science --search results/b0-local-search.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nas.presets import get_preset  # noqa: E402

EFFNAS = str(Path(sys.executable).with_name("effnas"))
BASES = ("efficientnet-b0", "searched-seed0")  # B0, and the seed-0 search's best (--search's seed-0 run folder)
SEEDS = (0, 1)
DIMENSIONS = ("depth", "width", "resolution", "compound")


def run_missing(root: Path, search: Path, jobs: int = 1) -> None:
    """Run each missing grid with b0-local's proxy as it is now (finished grids are kept as they are), `jobs`
    grids at a time (one thread each)."""
    proxy = json.dumps(get_preset("b0-local")["evaluator_configs"]["proxy"])
    bases = {"efficientnet-b0": "efficientnet-b0", "searched-seed0": str(search / "seed-0")}
    commands = [[EFFNAS, "grid", "--base", base, "--evaluator", "proxy", "--config", proxy, "--config", f"seed={seed}",
                 "--step", "0.2", "--levels", "2", "--runner", "inline", "--out", str(root / f"{name}-s{seed}"),
                 "--quiet"]
                for seed in SEEDS for name, base in bases.items()
                if not (root / f"{name}-s{seed}" / "grid.json").exists()]
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda args: subprocess.run(args, check=True, stdout=subprocess.DEVNULL), commands))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "results" / "grid-science-tse"))
    parser.add_argument("--search", default=str(ROOT / "results" / "b0-local-tse-search"),
                        help="the b0-local searches whose seed-0 best is the second base")
    parser.add_argument("--run", action="store_true", help="run the missing grids")
    parser.add_argument("--jobs", type=int, default=1, help="grids run at once (one core each)")
    args = parser.parse_args()
    root = Path(args.out)
    if args.run:
        run_missing(root, Path(args.search).resolve(), args.jobs)
    print("| base | proxy seed | chosen α, β, γ | its metric | base metric (×1) | depth ×2 | width ×2 | resolution ×2 "
          "| compound ×2 | best at ×2 |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|")
    means: dict[str, dict[str, list[float]]] = {}
    for name in BASES:
        for seed in SEEDS:
            path = root / f"{name}-s{seed}" / "grid.json"
            if not path.exists():
                print(f"| {name} | {seed} | (not run) |" + " |" * 7)
                continue
            grid = json.loads(path.read_text())
            best, level = grid["best"], grid["matched"]["2"]
            base_metric = next((c["metric"] for c in grid["candidates"] if c.get("key") == "base"), float("nan"))
            cells = [level[d]["metric"] for d in DIMENSIONS]
            winner = DIMENSIONS[max(range(4), key=lambda i: cells[i])]
            for dimension, value in zip(DIMENSIONS, cells, strict=True):
                means.setdefault(name, {}).setdefault(dimension, []).append(value)
            chosen = f"{best['alpha']:g}, {best['beta']:g}, {best['gamma']:g}"
            matched = " | ".join(f"{v:.4f} ({level[d]['macs'] / 1e6:.0f}M)" for d, v in zip(DIMENSIONS, cells,
                                                                                             strict=True))
            print(f"| {name} | {seed} | {chosen} | {best['metric']:.4f} | {base_metric:.4f} | {matched} | {winner} |")
    print()
    for name, by_dimension in means.items():
        shown = ", ".join(f"{d} {statistics.mean(v):.4f}" for d, v in by_dimension.items())
        print(f"{name}, mean over {len(next(iter(by_dimension.values())))} seed(s) at 2x MACs: {shown}")


if __name__ == "__main__":
    main()
