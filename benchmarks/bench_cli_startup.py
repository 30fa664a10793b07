"""Wall time of the analytic commands (issue 11 §2: goal <= 0.5 s, no torch or Ray imported).

Every command runs as a fresh `python -m effnas.cli ...` process, interleaved round by round with
`python -c pass` (the interpreter's own start) and `python -c "import torch"` (what each command
paid before it stopped importing torch), so the three are measured side by side under the same
load. Prints a Markdown table: median and best wall time over the rounds, and the median CPU time
(user + system) of the process, which a busy machine inflates far less than wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 0.5
COMMANDS = [
    "arch show efficientnet-b0",
    "arch show efficientnet-b0 --json",
    "arch graph efficientnet-b0",
    "space sample --n 3 --seed 1",
    "space show",
    "family --base efficientnet-b0 --phis 0,1,2",
    "family --base efficientnet-b0 --targets 400M,1G",
    "detector show d0",
    "detector show d7x --json",
]
REFERENCES = [("`python -c pass`", ["-c", "pass"]), ("`python -c \"import torch\"`", ["-c", "import torch"])]


def wall(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user + system) of one run; CPU time is what the load inflates least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *argv], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heavy_imports(argv: list[str]) -> list[str]:
    """Top-level torch/ray modules the command imports (from `-X importtime`)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *argv], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    names = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return sorted(n for n in names if n in ("torch", "ray"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"(load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.rounds} rounds, "
          "interleaved)\n")
    runs = [(label, argv) for label, argv in REFERENCES]
    runs += [(f"`effnas {command}`", ["-m", "effnas.cli", *command.split()]) for command in COMMANDS]
    times: dict[str, list[float]] = {label: [] for label, _ in runs}
    cpu: dict[str, list[float]] = {label: [] for label, _ in runs}
    for _, argv in runs:  # warm the file cache once
        wall(argv)
    for _ in range(args.rounds):
        for label, argv in runs:
            elapsed, used = wall(argv)
            times[label].append(elapsed)
            cpu[label].append(used)
    base = statistics.median(times[REFERENCES[0][0]])
    print("| command | median wall | best | minus `python -c pass` | median CPU (user+sys) | torch/ray imported "
          "| <= 0.5 s |")
    print("|---|---:|---:|---:|---:|---|---|")
    for label, argv in runs:
        median, best = statistics.median(times[label]), min(times[label])
        reference = label in dict(REFERENCES)
        heavy = ", ".join(heavy_imports(argv)) or "none"
        goal = "" if reference else ("yes" if median <= GOAL_S else "**no**")
        used = statistics.median(cpu[label])
        print(f"| {label} | {median:.3f} s | {best:.3f} s | {median - base:+.3f} s | {used:.3f} s | {heavy} | {goal} |")
    print("\nWall time shares the cores with whatever else runs (the load average above); CPU time (the process's "
          "own user + system seconds) is far less inflated by that load.")


if __name__ == "__main__":
    main()
