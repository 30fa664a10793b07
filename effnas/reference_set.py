"""Make the converged reference set: ``python -m effnas.reference_set [--runner ray] [--limit N]``.

Architectures (in this order, so partial runs are useful): EfficientNet-B0, MnasNet-A1,
MobileNetV2; B0 scaled to about 2× its MACs by depth only, width only, resolution only and
compound (φ = 1 with α, β, γ = 1.2, 1.1, 1.15); a plain 3-layer CNN (the baseline); then
`--random` members of the MnasNet space with 150M–800M MACs at 224 px (space seed `--space-seed`). Each is trained with
``nas.reference.REFERENCE_CONFIG`` (the proxy input resolution follows each architecture's
resolution factor, as in the scaling grid) for every seed in `--seeds`, all seed-0 trials first.

Trials run through the runners like any batch (inline or Ray Tune) and land in one ledger per
seed under ``--work/seed-S/trials.jsonl`` (fsynced as each finishes: a killed run resumes where it
stopped); ``--out/reference.jsonl`` is rewritten atomically from the ledgers after every trial.
``--out`` defaults to the folder the package's reference set links to (results/reference-set in
a checkout: ``nas/reference_data`` holds symlinks to its files); the ledgers are run folders,
never package data: ``--work`` defaults to ``OUT/work``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

from nas.reference import REFERENCE_CONFIG, REFERENCE_DIR, REFERENCE_FILE, ReferenceRow
from nas.runners import DEFAULT_RUNNER, RUNNERS, RunnerSettings
from scaling.grid import Candidate, evaluate_candidates, proxy_resolution
from scaling.matched import single_dimension
from scaling.progress import Countdown
from scaling.scale import compound_scale
from search_spaces import Arch, InputError, MnasNetSpace, load_arch
from search_spaces.atomic import write_text_atomic

from .options import parse_pairs
from .output import format_duration

NAMED = ("efficientnet-b0", "mnasnet-a1", "mobilenet-v2")
# The trial ledgers of the default --out (the package's reference.jsonl): run folders, kept out of the package.
WORK_DIR = Path("results") / "reference-set" / "work"
MACS_RANGE = (150e6, 800e6)
# A plain 3-layer conv net in the project's own block strings: the baseline every proxy must beat.
PLAIN_CNN = ["cn_r1_k3_s11_i32_o32", "cn_r1_k3_s22_i32_o64", "cn_r1_k3_s22_i64_o128"]


def reference_archs(random_count: int, space_seed: int) -> list[tuple[str, str, Arch]]:
    """(key, group, arch) for every architecture of the reference set, in training order."""
    out = [(name, "named", load_arch(name)) for name in NAMED]
    base = out[0][2]
    doubled = 2 * base.cost().macs
    for rule in ("depth", "width", "resolution"):
        out.append((f"b0-{rule}-x2", "scaled", single_dimension(base, rule, doubled).with_(name=f"b0-{rule}-x2")))
    out.append(("b0-compound-phi1", "scaled", compound_scale(base, 1.0).with_(name="b0-compound-phi1")))
    out.append(("plain-cnn", "baseline", load_arch(PLAIN_CNN).with_(name="plain-cnn")))
    space, rng = MnasNetSpace(), np.random.default_rng(space_seed)
    found = 0
    while found < random_count:
        arch = space.sample(rng)
        if MACS_RANGE[0] <= arch.cost().macs <= MACS_RANGE[1]:
            key = f"space-{space_seed}-{found:03d}"
            out.append((key, "random", arch.with_(name=key)))
            found += 1
    return out


def ledger_folder(out: Path, work: str | None = None) -> Path:
    """Where the trial ledgers go: `work` if given, else out/work, except for the package's own
    reference set (the default --out), whose ledgers go to WORK_DIR (run folders are not package data)."""
    if work:
        return Path(work)
    return WORK_DIR if out.resolve() == REFERENCE_DIR.resolve() else out / "work"


def assemble(out: Path, archs: list[tuple[str, str, Arch]], config: dict[str, Any],
             work: Path | None = None) -> list[ReferenceRow]:
    """Reference rows from every per-seed ledger under `work` (default out/work; finished trials only, seed
    by seed), written atomically to out/reference.jsonl. Several generator processes (one per seed) may run
    at once."""
    work = out / "work" if work is None else work
    groups = {key: group for key, group, _ in archs}
    base = archs[0][2]
    rows = []
    ledgers = sorted(work.glob("seed-*/trials.jsonl"), key=lambda p: int(p.parent.name.split("-")[1]))
    for ledger in ledgers:
        seed = int(ledger.parent.name.split("-")[1])
        for line in ledger.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                trial = json.loads(line)
            except json.JSONDecodeError:  # a line being written by another process
                continue
            details = trial.get("details") or {}
            arch = Arch.from_dict(trial["arch"])
            rows.append(ReferenceRow(
                key=trial["trial"], arch=trial["arch"], seed=seed, accuracy=float(trial["metric"]),
                train_loss=float(details.get("train_loss", float("nan"))), macs=int(trial["macs"]),
                params=int(trial["params"]), seconds=float(trial["seconds"]),
                config={**config, "seed": seed, "resolution": proxy_resolution(base, arch, config, True)},  # as trained
                group=groups.get(trial["trial"], "random"), epoch_losses=list(details.get("epoch_losses", [])),
                worker=str(trial.get("worker", ""))))
    write_text_atomic(out / "reference.jsonl", "".join(row.to_json() + "\n" for row in rows))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m effnas.reference_set", description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=53, help="random members of the space (default 53)")
    parser.add_argument("--space-seed", type=int, default=7, help="seed of the random members (default 7)")
    parser.add_argument("--seeds", default="0,1", help="training seeds (default 0,1)")
    parser.add_argument("--runner", default=DEFAULT_RUNNER, choices=RUNNERS)
    parser.add_argument("--ray-address", help="join this Ray cluster (default: embedded local Ray)")
    parser.add_argument("--max-concurrent", type=int, help="concurrent Ray trials (default: one per CPU)")
    parser.add_argument("--device", default=None, help="override the training device (cuda on a GPU machine)")
    parser.add_argument("--limit", type=int, help="stop after this many new trials (spread over sessions)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help="override one config value (smoke tests only: the reference set uses the defaults)")
    parser.add_argument("--out", default=str(REFERENCE_FILE.resolve().parent),
                        help="folder of reference.jsonl (default: the one the package links to, results/reference-set)")
    parser.add_argument("--work", help="folder of the per-seed trial ledgers (default: OUT/work with --out, else "
                                       f"{WORK_DIR} under the current folder)")
    args = parser.parse_args(argv)
    if args.random < 0 or args.space_seed < 0:
        raise InputError("--random and --space-seed must be >= 0")
    seeds = [int(s) for s in args.seeds.split(",")]
    out = Path(args.out)
    work = ledger_folder(out, args.work)
    archs = reference_archs(args.random, args.space_seed)
    config: dict[str, Any] = dict(REFERENCE_CONFIG)
    if args.device:
        config["device"] = args.device
    config.update(parse_pairs(args.set, "--set"))
    base = archs[0][2]
    settings = RunnerSettings(args.runner, args.ray_address, args.max_concurrent)
    budget, plan = args.limit, []
    for seed in seeds:
        ledger_dir = work / f"seed-{seed}"
        done = set()
        if (ledger_dir / "trials.jsonl").is_file():
            done = {json.loads(line)["trial"] for line in (ledger_dir / "trials.jsonl").read_text().splitlines()
                    if line.strip()}
        todo = [Candidate(key, group, arch) for key, group, arch in archs if key not in done]
        if budget is not None:
            todo = todo[:budget]
            budget -= len(todo)
        if todo:
            plan.append((seed, ledger_dir, todo, len(done)))
    countdown = Countdown(sum(len(todo) for _, _, todo, _ in plan))
    for seed, ledger_dir, todo, finished in plan:
        print(f"seed {seed}: {len(todo)} to train ({finished} done), {platform.node()}", file=sys.stderr, flush=True)

        def progress(row: dict[str, Any], seed: int = seed) -> None:
            details = row.get("details") or {}
            event = countdown.tick()
            print(f"  [{event['done']}/{event['total']}] seed {seed} {row['trial']}: acc {row['metric']:.4f} "
                  f"loss {details.get('train_loss', 0):.3f} ({row['seconds']:.0f}s) | ETA "
                  f"{format_duration(event['eta_s'])}", file=sys.stderr, flush=True)
            assemble(out, archs, config, work)

        # named, scaled and baseline first (evaluate_candidates orders by proxy resolution within a call)
        for batch in ([c for c in todo if c.rule != "random"], [c for c in todo if c.rule == "random"]):
            if batch:
                evaluate_candidates(batch, base, "proxy", {**config, "seed": seed}, ledger_dir, settings=settings,
                                    progress=progress)
    rows = assemble(out, archs, config, work)
    print(f"{len(rows)} rows in {out / 'reference.jsonl'} ({len(archs) * len(seeds)} planned)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except InputError as error:
        print(f"effnas.reference_set: error: {error}", file=sys.stderr)
        sys.exit(2)
