"""`make bench`: run every benchmark and write benchmarks/RESULTS.md (kept in the repo).

Each benchmark prints its own Markdown table with ratios measured side by side in one run. The
demo's peak memory is the sum of RSS over the driver's whole process tree (Ray's GCS, raylet and
workers included), sampled every 0.5 s. Sections written by other scripts (the issue-9 science
reports, `benchmarks/report_*.py`: hours of training, resumable with `--run`) are kept as they are.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BENCHES = [
    ("Cost model: analytic `cost()` vs thop", ["bench_cost.py", "--archs", "20000", "--thop-archs", "4"]),
    ("Family targets: error and time per member", ["bench_family_targets.py"]),
    ("Table 3 re-measured: MobileNetV1, MobileNetV2 and ResNet-50 scaled", ["bench_table3.py"]),
    ("B0 training step vs efficientnet_pytorch", ["bench_train_step.py", "--batch", "16", "--steps", "3"]),
    ("Training engine: `effnas train` vs a hand-written loop", ["bench_train.py", "--threads", "1", "--images", "960",
                                                                "--val-size", "160", "--batch", "16",
                                                                "--step-resolution", "160"]),
    ("Ray runner vs inline", ["bench_ray.py", "--trials", "32"]),
    ("Synchronous (reproducible) vs asynchronous search on Ray", ["bench_sync.py"]),
    ("Search strategies at equal budget", ["bench_strategies.py"]),
    ("Zero-cost proxies vs trained accuracy", ["bench_zero_cost.py"]),
    ("Proxy trains the space: acceptance on 20 architectures",
     ["bench_proxy_trains.py", "--archs", "acceptance", "--variants", "old,mnist-b0-local,default"]),
    ("Proxy fidelity against the converged reference set", ["bench_proxy_fidelity.py"]),
    ("Latency lookup table vs end-to-end timing", ["bench_latency.py"]),
    ("Detectors D0-D7x vs the paper", ["bench_detectors.py"]),
    ("Analytic CLI start-up: wall time, no torch", ["bench_cli_startup.py"]),
    ("ONNX export checked by onnxruntime", ["bench_onnx.py"]),
    ("Early stopping: ASHA vs no scheduler at an equal wall-clock budget", ["bench_asha.py"]),
    ("Data path: ImageFolder at 224 px, today's loop vs the DataLoader", ["bench_data_path.py"]),
]


def run_bench(script: list[str], timeout: int) -> str:
    path = ROOT / "benchmarks" / script[0]
    if not path.exists():
        return f"(no {script[0]})"
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, str(path), *script[1:]], capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return f"(timed out after {timeout} s)"
    text = proc.stdout.strip() or proc.stderr.strip()[-2000:]
    return f"{text}\n\n_{time.monotonic() - start:.0f} s, exit {proc.returncode}_"


def demo_peak_memory(timeout: int) -> str:
    """Run the demo job in a temp folder; peak RSS (MiB) of the whole process tree and wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "effnas.cli", "run", str(ROOT / "jobs" / "local-demo.toml"),
                                 "--out", f"{tmp}/demo", "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        root, peak = psutil.Process(proc.pid), 0
        while proc.poll() is None and time.monotonic() - start < timeout:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.5)
        if proc.poll() is None:
            proc.kill()
            return f"(demo timed out after {timeout} s)"
        wall = time.monotonic() - start
        status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.read()[-300:]}"
    return ("| job | wall time | peak RSS (process tree) | status |\n|---|---:|---:|---|\n"
            f"| jobs/local-demo.toml | {wall / 60:.1f} min | {peak / 2**20:,.0f} MiB | {status} |")


def merge_sections(old: str, new: list[str]) -> list[str]:
    """The old file's sections with those of the same '## ' title replaced by `new` ones (new
    titles appended); the header (first section) is the new one."""
    def split(text: str) -> list[str]:
        parts = text.split("\n## ")
        return [parts[0], *(f"## {part}" for part in parts[1:])]

    def title(section: str) -> str:
        return section.splitlines()[0]

    fresh = {title(section): section for section in new[1:]}
    merged = [new[0]]
    for section in split(old)[1:]:
        merged.append(fresh.pop(title(section), section.rstrip("\n") + "\n"))
    return merged + list(fresh.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", help="run only benchmarks whose file name contains one of these")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per benchmark")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo's peak-memory run")
    parser.add_argument("-o", "--output", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    args = parser.parse_args()
    sections = [f"# effnas benchmarks\n\nMachine: {platform.machine()}, {os.cpu_count()} cores, "
                f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}; "
                f"load average at start {os.getloadavg()[0]:.1f}. Written by `make bench` on "
                f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n"]
    for title, script in BENCHES:
        if args.only and not any(key in script[0] for key in args.only):
            continue
        print(f"running {script[0]} ...", file=sys.stderr, flush=True)
        sections.append(f"## {title}\n\n`python benchmarks/{' '.join(script)}`\n\n{run_bench(script, args.timeout)}\n")
    if not args.no_demo and not args.only:
        print("running the demo job for peak memory ...", file=sys.stderr, flush=True)
        sections.append(f"## Demo job: time and peak memory\n\n{demo_peak_memory(args.timeout)}\n")
    output = Path(args.output)
    if output.is_file():  # keep the sections no benchmark here writes (the science reports: report_*.py)
        sections = merge_sections(output.read_text(), sections)
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text("\n".join(sections))
    os.replace(tmp, output)
    print(f"wrote {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
