"""`make bench`: run every benchmark and write benchmarks/RESULTS.md (kept in the repo).

Each benchmark prints its own Markdown table with ratios measured side by side in one run. The
demo's peak memory is the sum of RSS over the driver's whole process tree (Ray's GCS, raylet and
workers included), sampled every 0.5 s.

RESULTS.md is grouped by topic (TOPICS, in that order): a header (the machine paragraph, a fixed
intro, a contents list), then one "## topic" per topic holding its "### section"s. A run replaces
the sections of the benchmarks it ran (same title) where they stand, appends a new benchmark's
section at the end of its topic, and keeps every other section as it is: the hand-written science
reports (`benchmarks/report_*.py`: hours of training, resumable with `--run`). Superseded
generations of an experiment live in benchmarks/HISTORY.md, which nothing here writes.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
TITLE = "# effnas benchmarks"
INTRO = ("Sections are grouped by topic and hold current results only; superseded generations of an experiment "
         "are in [HISTORY.md](HISTORY.md), dated.")
TOPICS = ("Cost model", "Scaling", "Training", "Search signal", "Search", "Ray", "Detectors", "Export",
          "Reliability and start-up")


@dataclass(frozen=True)
class Bench:
    """One benchmark: its section's title and topic, the script with its arguments, and an optional
    first line of the section's body (status, what supersedes it)."""

    title: str
    topic: str
    script: tuple[str, ...]
    note: str = ""


BENCHES = (
    Bench("Cost model: analytic `cost()` vs thop", "Cost model",
          ("bench_cost.py", "--archs", "20000", "--thop-archs", "4")),
    Bench("Family targets: error and time per member", "Scaling", ("bench_family_targets.py",)),
    Bench("Table 3 re-measured: MobileNetV1, MobileNetV2 and ResNet-50 scaled", "Scaling", ("bench_table3.py",)),
    Bench("B0 training step vs efficientnet_pytorch", "Training",
          ("bench_train_step.py", "--batch", "16", "--steps", "3")),
    Bench("Training engine: `effnas train` vs a hand-written loop", "Training",
          ("bench_train.py", "--threads", "1", "--images", "960", "--val-size", "160", "--batch", "16",
           "--step-resolution", "160")),
    Bench("Ray runner vs inline", "Ray", ("bench_ray.py", "--trials", "32")),
    Bench("Synchronous (reproducible) vs asynchronous search on Ray", "Ray", ("bench_sync.py",)),
    Bench("Search strategies at equal budget", "Search", ("bench_strategies.py",),
          note="Superseded by [Strategies at equal budget on b0-local's proxy]"
               "(#strategies-at-equal-budget-on-b0-locals-proxy): this is the first, zero-cost generation (NASWOT "
               "reward on digits, nothing retrained), kept here because `make bench` rewrites it."),
    Bench("Zero-cost proxies vs trained accuracy", "Search signal", ("bench_zero_cost.py",)),
    Bench("Proxy trains the space: acceptance on 20 architectures", "Search signal",
          ("bench_proxy_trains.py", "--archs", "acceptance", "--variants", "old,mnist-b0-local,default")),
    Bench("Proxy fidelity against the converged reference set", "Search signal", ("bench_proxy_fidelity.py",)),
    Bench("Latency lookup table vs end-to-end timing", "Search signal", ("bench_latency.py",)),
    Bench("Detectors D0-D7x vs the paper", "Detectors", ("bench_detectors.py",)),
    Bench("Analytic CLI start-up: wall time, no torch", "Reliability and start-up", ("bench_cli_startup.py",)),
    Bench("ONNX export checked by onnxruntime", "Export", ("bench_onnx.py",)),
    Bench("Early stopping: ASHA vs no scheduler at an equal wall-clock budget", "Search", ("bench_asha.py",)),
    Bench("Data path: ImageFolder at 224 px, today's loop vs the DataLoader", "Training", ("bench_data_path.py",)),
)
DEMO = Bench("Demo job: time and peak memory", "Reliability and start-up", ())


@dataclass(frozen=True)
class Section:
    """A "### " section: its title and its whole text, heading included, ending in one newline."""

    title: str
    text: str


@dataclass(frozen=True)
class Results:
    """RESULTS.md parsed: the machine paragraph and the topics, in file order, with their sections."""

    machine: str
    topics: tuple[tuple[str, tuple[Section, ...]], ...]


def section(title: str, body: str) -> Section:
    return Section(title, f"### {title}\n\n{body.strip()}\n")


def bench_section(bench: Bench, output: str) -> Section:
    """The section a run of `bench` writes: its note, the command, what the script printed."""
    parts = [bench.note] if bench.note else []
    if bench.script:
        parts.append(f"`python benchmarks/{' '.join(bench.script)}`")
    return section(bench.title, "\n\n".join([*parts, output]))


def _lines_outside_fences(text: str) -> Iterable[tuple[str, bool]]:
    """Each line of `text` with whether it is outside a fenced code block (where '#' starts a heading)."""
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            yield line, False
        else:
            yield line, not fenced


def parse(text: str) -> Results:
    """Split RESULTS.md into its machine paragraph and topics -> "### " sections (#### stay inside)."""
    header: list[str] = []
    topics: list[tuple[str, list[list[str]]]] = []
    for line, outside in _lines_outside_fences(text):
        if outside and line.startswith("## "):
            topics.append((line[3:].strip(), []))
        elif outside and line.startswith("### "):
            if not topics:
                raise ValueError(f"section before any topic: {line!r}")
            topics[-1][1].append([line])
        elif not topics:
            header.append(line)
        elif topics[-1][1]:
            topics[-1][1][-1].append(line)
        elif line.strip():
            raise ValueError(f"text between '## {topics[-1][0]}' and its first '### ' section: {line!r}")
    paragraphs = [p.strip() for p in "\n".join(header).strip().split("\n\n")][1:]  # the title's left out
    machine = paragraphs[0] if paragraphs and paragraphs[0] != INTRO and not paragraphs[0].startswith("- [") else ""
    parsed = tuple((name, tuple(Section(lines[0][4:].strip(), "\n".join(lines).strip() + "\n") for lines in sections))
                   for name, sections in topics)
    titles = [s.title for _, sections in parsed for s in sections]
    if len(titles) != len(set(titles)):
        raise ValueError(f"duplicate section titles: {sorted({t for t in titles if titles.count(t) > 1})}")
    return Results(machine=machine, topics=parsed)


def merge(old: Results, fresh: Sequence[tuple[str, Section]], machine: str | None = None) -> Results:
    """`old` with each section of the same title as a fresh (topic, section) replaced where it stands,
    the other fresh ones appended at the end of their topic; topics in TOPICS order, then any other
    topic of `old` in its order; empty topics dropped. `machine` None keeps the old paragraph."""
    replacements = {s.title: s for _, s in fresh}
    topics: dict[str, list[Section]] = {name: [] for name in TOPICS}
    for name, sections in old.topics:
        topics.setdefault(name, []).extend(replacements.get(s.title, s) for s in sections)
    placed = {s.title for sections in topics.values() for s in sections}
    for name, s in fresh:
        if s.title not in placed:
            topics.setdefault(name, []).append(s)
            placed.add(s.title)
    return Results(machine=old.machine if machine is None else machine,
                   topics=tuple((name, tuple(sections)) for name, sections in topics.items() if sections))


def slugs(headings: Iterable[str]) -> list[str]:
    """GitHub's anchors for these heading texts, in document order (a repeated one gets -1, -2, ...)."""
    seen: dict[str, int] = {}
    out = []
    for heading in headings:
        base = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        slug, count = base, seen.get(base, 0)
        while slug in seen:
            count += 1
            slug = f"{base}-{count}"
        seen[base] = count
        seen.setdefault(slug, 0)
        out.append(slug)
    return out


def headings(text: str) -> list[tuple[int, str]]:
    """(level, text) of each Markdown ATX heading of `text`, code blocks skipped."""
    found = []
    for line, outside in _lines_outside_fences(text):
        match = re.match(r"(#{1,6}) (.+?)(?:\s+#+)?\s*$", line) if outside else None
        if match:
            found.append((len(match[1]), match[2]))
    return found


def render(results: Results) -> str:
    """The whole file: title, machine paragraph, intro, contents (topics and their sections), topics."""
    body = "\n".join(f"## {name}\n\n" + "\n".join(s.text for s in sections) for name, sections in results.topics)
    found = headings(f"{TITLE}\n\n{body}")
    contents = [f"{'  ' if level == 3 else ''}- [{text}](#{slug})"
                for (level, text), slug in zip(found, slugs(text for _, text in found), strict=True) if level in (2, 3)]
    header = "\n\n".join(part for part in (TITLE, results.machine, INTRO, "\n".join(contents)) if part)
    return f"{header}\n\n{body}" if body else f"{header}\n"


def run_bench(script: Sequence[str], timeout: int) -> str:
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


def machine_paragraph() -> str:
    return (f"Machine: {platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
            f"Python {platform.python_version()}; load average at start {os.getloadavg()[0]:.1f}. Written by "
            f"`make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", help="run only benchmarks whose file name contains one of these")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per benchmark")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo's peak-memory run")
    parser.add_argument("-o", "--output", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    args = parser.parse_args()
    output = Path(args.output)
    # parsed first, so that a file this cannot merge fails before hours of benchmarks, not after
    old = parse(output.read_text()) if output.is_file() else Results(machine="", topics=())
    machine = machine_paragraph()
    fresh: list[tuple[str, Section]] = []
    for bench in BENCHES:
        if args.only and not any(key in bench.script[0] for key in args.only):
            continue
        print(f"running {bench.script[0]} ...", file=sys.stderr, flush=True)
        fresh.append((bench.topic, bench_section(bench, run_bench(bench.script, args.timeout))))
    if not args.no_demo and not args.only:
        print("running the demo job for peak memory ...", file=sys.stderr, flush=True)
        fresh.append((DEMO.topic, bench_section(DEMO, demo_peak_memory(args.timeout))))
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(render(merge(old, fresh, machine)))
    os.replace(tmp, output)
    print(f"wrote {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
