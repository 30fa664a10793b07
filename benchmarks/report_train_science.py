"""Scaling science on trained members, two studies, all trained by `effnas train`'s engine at the
reference set's budget on its task:

* ``--study scaling`` (issue 25 §6, the default): Observation 1 (accuracy grows with each dimension
  and saturates), Observation 2 (compound ahead of single-dimension scaling at equal MACs) and the
  searched baseline's family against B0's — and the efficientnet recipe against the adam recipe on B0;
* ``--study bases`` (issue 26 §4, Table 3 on this task): MobileNetV2 and ResNet-18 at φ = 0 and 1, and
  scaled by depth, width or resolution alone to the compound member's MACs — does compound beat
  single-dimension scaling on these bases too?

Every run: cluttered MNIST (mnist-cluttered), 10,000 training and 2,000 held-out images, 10 epochs,
batch 64, the input size following the member's resolution (nas.reference.scaled_pixels: 32 px for
224), one thread, through nas.training.run.train_run. Members (RUNS): B0 and the seed-0 b0-local
search's best (results/b0-local-tse-search/seed-0) at φ = 0, 1, 2 (scaling.compound_scale), and
B0 scaled by depth, width or resolution alone to the compound member's MACs at φ = 1 and 2
(scaling.matched.single_dimension). Runs whose arch and training are a reference-set row's exactly
(same arch, seed and input size with the adam recipe: B0 at φ = 0 and compound φ = 1) take that
row (the reference set trained through the same loop: tests/test_train.py
checks the proxy and `effnas train` agree step for step).

    python benchmarks/report_train_science.py [--study scaling|bases] [--run [--limit N] [--seeds 0,1] [--only KEY,...]]

Finished runs land in results/train-science/rows.jsonl (results/bases-science/ for the bases study;
one line each, fsynced; committed); the run folders (checkpoints: resumable epoch by epoch on this
machine) in runs/ beside it (not committed). Without --run: the tables from what has finished,
printed and written to the study's README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nas.reference import REFERENCE_CONFIG, read_reference, scaled_pixels  # noqa: E402
from nas.training.recipe import get_recipe  # noqa: E402
from nas.training.run import train_run  # noqa: E402
from scaling.matched import single_dimension  # noqa: E402
from scaling.scale import compound_scale  # noqa: E402
from search_spaces import Arch, load_arch  # noqa: E402
from search_spaces.atomic import append_bytes, write_text_atomic  # noqa: E402

OUT = ROOT / "results" / "train-science"
SEARCHED = ROOT / "results" / "b0-local-tse-search" / "seed-0" / "best.json"
SEEDS = (0, 1)
RULES = ("depth", "width", "resolution")
# (key, base, rule, phi, recipe) in the order they are trained: Observation 2 at φ = 1 first
RUNS = [("b0-phi0", "b0", "compound", 0, "adam"), ("b0-phi1", "b0", "compound", 1, "adam"),
        *[(f"b0-{rule}-phi1", "b0", rule, 1, "adam") for rule in RULES],
        ("b0-phi0-efficientnet", "b0", "compound", 0, "efficientnet"),
        ("searched-phi0", "searched", "compound", 0, "adam"), ("searched-phi1", "searched", "compound", 1, "adam"),
        ("b0-phi2", "b0", "compound", 2, "adam"), *[(f"b0-{rule}-phi2", "b0", rule, 2, "adam") for rule in RULES],
        ("searched-phi2", "searched", "compound", 2, "adam")]


BASES = ("mobilenet-v2", "resnet-18")
BASES_RUNS = [run for base in BASES for run in [
    (f"{base}-phi0", base, "compound", 0, "adam"), (f"{base}-phi1", base, "compound", 1, "adam"),
    *[(f"{base}-{rule}-phi1", base, rule, 1, "adam") for rule in RULES]]]


@dataclass(frozen=True)
class Study:
    """One study: where its rows go, the runs in training order, the lines of its plot, its title."""

    out: Path
    runs: list
    lines: dict
    title: str


STUDIES = {
    "scaling": Study(OUT, RUNS, {"B0 compound": ("b0", "compound"), "searched compound": ("searched", "compound"),
                                 **{f"B0 {rule} only": ("b0", rule) for rule in RULES}},
                     "Scaling science on trained members (issue 25 §6)"),
    "bases": Study(ROOT / "results" / "bases-science", BASES_RUNS,
                   {f"{base} {rule}": (base, rule) for base in BASES for rule in ("compound", *RULES)},
                   "Compound vs single-dimension scaling of other bases, trained (issue 26 §4)"),
}


def base_arch(name: str) -> Arch:
    if name == "b0":
        return load_arch("efficientnet-b0")
    if name == "searched":
        return Arch.from_dict(json.loads(SEARCHED.read_text())["arch"]).with_(name="searched-seed0")
    return load_arch(name)


def member(base: str, rule: str, phi: int) -> Arch:
    arch = base_arch(base)
    compound = compound_scale(arch, float(phi)) if phi else arch
    if rule == "compound":
        return compound
    return single_dimension(arch, rule, compound.cost().macs)


def options(arch: Arch, seed: int) -> dict:
    return {"data": REFERENCE_CONFIG["dataset"], "subset": REFERENCE_CONFIG["subset"],
            "val_size": REFERENCE_CONFIG["val_size"], "epochs": REFERENCE_CONFIG["epochs"],
            "batch": REFERENCE_CONFIG["batch"], "seed": seed, "threads": 1,
            "resolution": scaled_pixels(REFERENCE_CONFIG["resolution"], arch.resolution, 224)}


def _same(arch: Arch) -> str:
    """An arch's identity for matching reference rows (its name left out)."""
    return json.dumps({k: v for k, v in arch.to_dict().items() if k != "name"}, sort_keys=True)


def reference_row(arch: Arch, seed: int):
    """The reference-set row that is this run exactly (same arch, seed and input size), or None."""
    pixels = options(arch, seed)["resolution"]
    for row in read_reference():
        same_run = row.seed == seed and row.config.get("resolution") == pixels
        if same_run and _same(Arch.from_dict(row.arch)) == _same(arch):
            return row
    return None


def read_rows(study: Study) -> list[dict]:
    path = study.out / "rows.jsonl"
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a killed run: that run trains again
            continue
    return rows


def row_of(key: str, base: str, rule: str, phi: int, recipe: str, seed: int, arch: Arch, last: dict,
           source: str, seconds: float) -> dict:
    cost = arch.cost()
    return {"key": key, "base": base, "rule": rule, "phi": phi, "recipe": recipe, "seed": seed,
            "macs": cost.macs, "params": cost.params, "resolution": arch.resolution,
            "pixels": options(arch, seed)["resolution"], "accuracy": last["val_accuracy"],
            "ema_accuracy": last.get("ema_val_accuracy"), "train_loss": last["train_loss"],
            "val_loss": last["val_loss"], "seconds": seconds, "source": source}


def run_missing(study: Study, seeds: tuple[int, ...], limit: int | None, only: set[str] | None = None) -> None:
    done = {(row["key"], row["seed"]) for row in read_rows(study)}
    trained = 0
    for seed in seeds:
        for key, base, rule, phi, recipe in study.runs:
            if (key, seed) in done or only is not None and key not in only:
                continue
            arch = member(base, rule, phi)
            ref = reference_row(arch, seed) if recipe == "adam" else None
            if ref is not None:
                last = {"val_accuracy": ref.accuracy, "train_loss": ref.train_loss, "val_loss": float("nan")}
                row = row_of(key, base, rule, phi, recipe, seed, arch, last, "reference set", ref.seconds)
            else:
                if limit is not None and trained >= limit:
                    return
                began = time.perf_counter()
                folder = study.out / "runs" / f"{key}-s{seed}"
                print(f"training {key} seed {seed} ({arch.cost().macs / 1e6:.0f}M MACs) -> {folder}", flush=True)
                last = train_run(arch, get_recipe(recipe), options(arch, seed), folder, resume=True,
                                 source={"bench": "report_train_science", "key": key})
                row = row_of(key, base, rule, phi, recipe, seed, arch, last, "effnas train",
                             time.perf_counter() - began)
                trained += 1
            study.out.mkdir(parents=True, exist_ok=True)
            append_bytes(study.out / "rows.jsonl", (json.dumps(row) + "\n").encode())


def _mean(values: list[float]) -> str:
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return "–"
    return f"{statistics.mean(values):.4f}" + (f" ± {statistics.stdev(values):.4f}" if len(values) > 1 else "")


def report(study: Study) -> str:
    rows = read_rows(study)
    by = {}
    for row in rows:
        by.setdefault(row["key"], []).append(row)
    lines = ["| member | φ | rule | recipe | MACs | px | held-out acc (mean ± sd over seeds) | seeds | "
             "final train loss | EMA acc | minutes | source |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, _base, rule, phi, recipe in study.runs:
        found = by.get(key, [])
        if not found:
            lines.append(f"| {key} | {phi} | {rule} | {recipe} | | | (not run yet) | 0 | | | | |")
            continue
        first = found[0]
        lines.append(f"| {key} | {phi} | {rule} | {recipe} | {first['macs'] / 1e6:.0f}M | {first['pixels']} | "
                     f"{_mean([r['accuracy'] for r in found])} | "
                     f"{','.join(str(r['seed']) for r in found)} | {_mean([r['train_loss'] for r in found])} | "
                     f"{_mean([r['ema_accuracy'] for r in found])} | "
                     f"{statistics.mean(r['seconds'] for r in found) / 60:.1f} | "
                     f"{', '.join(sorted({r['source'] for r in found}))} |")
    return "\n".join(lines) + "\n"


def plot(study: Study, path: Path) -> None:
    from scaling.report_files import pyplot, save_figure

    plt = pyplot()
    rows = read_rows(study)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, (base, rule) in study.lines.items():
        points = {}
        for row in rows:  # φ = 0 (the base itself) starts every line of its base
            if row["base"] == base and row["recipe"] == "adam" and (row["rule"] == rule or row["phi"] == 0):
                points.setdefault(row["phi"], []).append(row)
        if not points:
            continue
        xs = [statistics.mean(r["macs"] for r in points[phi]) / 1e9 for phi in sorted(points)]
        ys = [statistics.mean(r["accuracy"] for r in points[phi]) for phi in sorted(points)]
        ax.plot(xs, ys, marker="o", label=label)
    ax.set_xlabel("MACs at full resolution (G)")
    ax.set_ylabel("held-out top-1 (cluttered MNIST, 10 epochs)")
    ax.set_title(f"{study.title.split(' (')[0]} (cf. EfficientNet Figure 8)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", choices=list(STUDIES), default="scaling")
    parser.add_argument("--run", action="store_true", help="train what is missing (resumes a killed run)")
    parser.add_argument("--limit", type=int, help="train at most this many runs, then stop")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--only", help="train only these run keys (comma-separated; two processes may run "
                                       "disjoint keys at once: rows.jsonl is appended in single writes)")
    args = parser.parse_args()
    study = STUDIES[args.study]
    if args.run:
        only = set(args.only.split(",")) if args.only else None
        run_missing(study, tuple(int(s) for s in args.seeds.split(",")), args.limit, only)
    table = report(study)
    study.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(study.out / "README.md", f"# {study.title}\n\n"
                      f"`python benchmarks/report_train_science.py --study {args.study} --run` continues it (see the "
                      "script's docstring).\n\n" + table + "\n![accuracy vs MACs](science.png)\n")
    if read_rows(study):
        plot(study, study.out / "science.png")
    print(table)


if __name__ == "__main__":
    main()
