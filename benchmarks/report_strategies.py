"""Issue 9 part 5: search strategies at equal budget on the sound proxy, judged by the reference.

Each (strategy, seed) is one `effnas search --preset b0-local --strategy X --seed S` (60 trials of
the b0-local proxy, soft reward, candidates within ±10% of 400M, the strategy's CLI defaults); its
top architecture is retrained at the reference budget (`effnas evaluate RUN --reference --seed 0`).
PPO's searches are the b0-local search's own (`--ppo-from`, default results/b0-local-search: the
same command, so the same trials), run there by report_b0_search.py or here, never twice.
The table gives mean ± std over seeds of the best proxy reward and of that reference accuracy, each
beside random search's (Welch's t-test p against random). `--run` runs what is missing, resumably
(`--limit N`: at most N new searches or evaluations this call), so the comparison is spread over
sessions. A search resumes with the proxy it started with (its config.json); a new one uses b0-local's
proxy as it is now — the 25 searches in results/strategies and results/b0-local-search were made with
cluttered-5k2 (b0-local 2026-11-30 to 12-01): compare a new proxy's searches in a new --out and
--ppo-from. Today's proxy (the reference run's first epoch, TSE): --out results/strategies-tse
--ppo-from results/b0-local-tse-search.

    python benchmarks/report_strategies.py [--strategies ppo,evolution,random,nni-evolution,nni-tpe]
        [--seeds 0,1,2,3,4] [--out DIR] [--ppo-from DIR] [--run [--limit N]] [--proposals N]
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

from search_spaces.atomic import write_text_atomic  # noqa: E402

EFFNAS = str(Path(sys.executable).with_name("effnas"))
STRATEGIES = "ppo,evolution,random,nni-evolution,nni-tpe"
EVAL = "reference-eval-seed0.json"


def folder_of(root: Path, strategy: str, seed: int, ppo_from: Path | None = None) -> Path:
    """Where the search of (strategy, seed) lives; PPO's in `ppo_from` when given (report_b0_search's folders)."""
    if strategy == "ppo" and ppo_from is not None:
        return ppo_from / f"seed-{seed}"
    return root / f"{strategy}-seed-{seed}"


def finished(folder: Path) -> bool:
    """The search wrote all its trials (best.json and as many ledger rows as config.json's trials)."""
    config, ledger = folder / "config.json", folder / "trials.jsonl"
    if not (config.exists() and ledger.exists() and (folder / "best.json").exists()):
        return False
    return sum(1 for _ in ledger.open()) >= json.loads(config.read_text())["trials"]


def run_missing(root: Path, strategies: list[str], seeds: list[int], limit: int | None,
                ppo_from: Path | None) -> None:
    """Seed-major (every strategy gets its seeds in turn): each search, then at once its top
    architecture's reference evaluation, so that a session cut short keeps whole (search, evaluation)
    pairs. `limit` counts searches and evaluations."""
    steps = 0
    for seed in seeds:
        for strategy in strategies:
            folder = folder_of(root, strategy, seed, ppo_from)
            search = [EFFNAS, "search", "--preset", "b0-local", "--strategy", strategy, "--seed", str(seed),
                      "--out", str(folder), "--quiet", *(["--resume"] if (folder / "config.json").exists() else [])]
            evaluate = [EFFNAS, "evaluate", str(folder), "--reference", "--seed", "0", "--json", "--quiet"]
            for step, done, command in (("search", finished(folder), search),
                                        ("evaluation", (folder / EVAL).exists(), evaluate)):
                if done:
                    continue
                if limit is not None and steps >= limit:
                    return
                print(f"{step} {strategy} seed {seed}", file=sys.stderr, flush=True)
                out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                if step == "evaluation":
                    write_text_atomic(folder / EVAL, out)
                steps += 1


def shown(path: Path) -> Path:
    """A path as printed: relative to the repository when inside it."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def spread(values: list[float]) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


def welch_p(values: list[float], others: list[float]) -> str:
    """Two-sided p of Welch's t-test (unequal variances) that two seed samples share a mean; "–" under 2 each."""
    if len(values) < 2 or len(others) < 2:
        return "–"
    from scipy.stats import ttest_ind

    return f"{ttest_ind(values, others, equal_var=False).pvalue:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", default=STRATEGIES)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--out", default=str(ROOT / "results" / "strategies"))
    parser.add_argument("--ppo-from", default=str(ROOT / "results" / "b0-local-search"),
                        help="PPO's searches: this folder's seed-S runs (the b0-local search); '' to run them here")
    parser.add_argument("--run", action="store_true", help="run the missing searches and evaluations")
    parser.add_argument("--limit", type=int, help="with --run: at most this many new searches/evaluations")
    parser.add_argument("--proposals", type=int, default=0, metavar="N",
                        help="also: where each finished search's strategy proposes next (N draws, before the band)")
    args = parser.parse_args()
    strategies = args.strategies.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    root = Path(args.out)
    ppo_from = Path(args.ppo_from) if args.ppo_from else None
    if args.run:
        run_missing(root, strategies, seeds, args.limit, ppo_from)

    print("| strategy | searches done | best proxy reward | vs random (Welch p) | reference acc of the top arch | "
          "Welch p vs random | evaluated | MACs of the top arch | mean reward, first / last 20 trials |")
    print("|---|---:|---|---:|---|---:|---:|---|---|")
    stats: dict[str, tuple[list[float], ...]] = {}  # best, accuracy, macs, first-20 and last-20 mean rewards
    ledgers: dict[str, list[list[float]]] = {}  # every finished search's trial rewards, in trial order
    runs: dict[str, list[Path]] = {}  # every finished search's folder
    for strategy in strategies:
        best, accuracy, macs, first, last = [], [], [], [], []
        ledgers[strategy], runs[strategy] = [], []
        for seed in seeds:
            folder = folder_of(root, strategy, seed, ppo_from)
            if not finished(folder):
                continue
            record = json.loads((folder / "best.json").read_text())
            best.append(record["reward"])
            macs.append(record["macs"] / 1e6)
            rewards = [json.loads(line)["reward"] for line in (folder / "trials.jsonl").open()]
            ledgers[strategy].append(rewards)
            runs[strategy].append(folder)
            first.append(statistics.mean(rewards[:20]))
            last.append(statistics.mean(rewards[-20:]))
            if (folder / EVAL).exists():
                accuracy.append(json.loads((folder / EVAL).read_text())["accuracy"])
        stats[strategy] = (best, accuracy, macs, first, last)
    base, base_accuracy = stats.get("random", ([], []))[:2]
    for strategy, (best, accuracy, macs, first, last) in stats.items():
        ratio = f"{statistics.mean(best) / statistics.mean(base):.4f}×" if best and base else "–"
        if strategy != "random":
            ratio = f"{ratio} ({welch_p(best, base)})"
        shown_macs = f"{min(macs):.0f}–{max(macs):.0f}M" if macs else "–"
        learning = f"{statistics.mean(first):.3f} / {statistics.mean(last):.3f}" if first else "–"
        accuracy_p = "–" if strategy == "random" else welch_p(accuracy, base_accuracy)
        print(f"| {strategy} | {len(best)}/{len(seeds)} | {spread(best)} | {ratio} | {spread(accuracy)} | "
              f"{accuracy_p} | {len(accuracy)} | {shown_macs} | {learning} |")
    shown_root, shown_ppo = shown(root), "" if ppo_from is None else f" (PPO's: {shown(ppo_from)})"
    print(f"\n60 trials per search (b0-local preset); runs in {shown_root}{shown_ppo}; 'vs random' is the ratio of "
          "mean best proxy rewards; the last column (mean over seeds of each search's mean trial reward) "
          "shows whether a strategy learned to propose better candidates.")
    print()
    print(ceiling_table(ledgers, stats.get("random", ([],))[0]))
    if args.proposals:
        print()
        print(proposal_table(runs, args.proposals))


def ceiling_table(ledgers: dict[str, list[list[float]]], random_bests: list[float]) -> str:
    """Does a better proposal distribution raise the best of 60, or only the average? For each strategy
    (its finished searches pooled): the share of its last 20 trials at least as good as random search's
    median best, and at least 95% of it (relative: rewards of different metrics differ in scale), and its
    highest trial reward; then the pooled top rewards."""
    if not random_bests:
        return "(no random search finished: no ceiling table)"
    bar = statistics.median(random_bests)
    lines = [f"| strategy | last-20 trials ≥ random's median best ({bar:.3f}) | last-20 trials ≥ 95% of it "
             f"({0.95 * bar:.3f}) | "
             "highest trial reward |", "|---|---:|---:|---:|"]
    for strategy, searches in ledgers.items():
        if not searches:
            continue
        late = [reward for rewards in searches for reward in rewards[-20:]]
        near = [sum(reward >= floor for reward in late) / len(late) for floor in (bar, 0.95 * bar)]
        top = max(reward for rewards in searches for reward in rewards)
        lines.append(f"| {strategy} | {100 * near[0]:.0f}% | {100 * near[1]:.0f}% | {top:.3f} |")
    pooled = sorted((reward for searches in ledgers.values() for rewards in searches for reward in rewards),
                    reverse=True)
    lines.append("")
    lines.append(f"Pooled over all {len(pooled)} trials of the finished searches: top rewards "
                 f"{', '.join(f'{reward:.3f}' for reward in pooled[:5])}; "
                 f"{sum(reward >= bar for reward in pooled)} at or above random's median best.")
    return "\n".join(lines)


def proposal_table(folders: dict[str, list[Path]], draws: int) -> str:
    """Where each strategy proposes after its search, before the cost band: its saved state (strategy.pt)
    restored, `draws` proposals of the unbanded strategy, each discarded untried; their MACs against the
    band, and the band's rejections per trial over the search (the band's `rejected` count / trials)."""
    import numpy as np
    import torch

    from nas.objective import Objective
    from nas.search import search_strategy
    from nas.strategies.band import band_limits
    from search_spaces import MnasNetSpace

    lines = [f"| strategy | searches | rejected proposals per trial | median MACs of {draws} proposals after the "
             "search | below the band | in it | above it |", "|---|---:|---|---:|---:|---:|---:|"]
    for strategy, runs in folders.items():
        if not runs:
            continue
        rejected, costs = [], []
        for folder in runs:
            config = json.loads((folder / "config.json").read_text())
            space, objective = MnasNetSpace(filters=config["space"]), Objective.from_config(config)
            banded = search_strategy(config, space, objective)
            banded.load_state_dict(torch.load(folder / "strategy.pt", weights_only=True)["strategy"])
            rejected.append(banded.rejected / config["trials"])
            low, high = band_limits(objective.target, config["band"])
            for _ in range(draws):
                trial_id, tokens = banded.inner.propose()
                costs.append(objective.cost(space.decode(tokens)))
                banded.inner.discard(trial_id)
        drawn = np.array(costs)
        shares = [(drawn < low).mean(), ((drawn >= low) & (drawn <= high)).mean(), (drawn > high).mean()]
        lines.append(f"| {strategy} | {len(runs)} | {min(rejected):.1f}–{max(rejected):.1f} | "
                     f"{np.median(drawn) / 1e6:.0f}M | " + " | ".join(f"{100 * share:.0f}%" for share in shares) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
