"""Measured latency: a per-layer lookup table calibrated by timing on this machine (MnasNet §3).

MnasNet's reward uses LAT(m), the model's latency on the target device. Here the device is the
machine the search runs on. Every network of the space is a chain stem → layers → head, so its
latency is predicted as the sum of its layers' latencies, each looked up by its configuration
(op, c_in, c_out, kernel, stride, expansion, SE ratio, skip, activation, input size): the
distinct configurations are few (a layer repeated inside a stage is one entry), so each is timed
once — batch 1, eval mode, inference mode, float32, channels-last — and cached in a JSON file.
A layer timed alone runs with warm caches, so the plain sum underestimates a whole network by a
roughly constant factor; :meth:`LatencyTable.fit_scale` measures a few reference networks end to
end (5 seeded random members of the space, by default disjoint from anything evaluated) and keeps
s = median(measured / Σ table) per resolution: prediction = s · Σ_layers LUT[layer].
:func:`measure` times the whole built model the same way, to check the table's error.
Units: milliseconds per image (batch 1).
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from search_spaces import Arch, BlockArgs, InputError
from search_spaces.atomic import write_json_atomic
from search_spaces.bounds import check_number
from search_spaces.geometry import layer_geometry, stem_output_size
from search_spaces.kinds import build_layer
from search_spaces.ops import ConvBnAct, PooledStem
from search_spaces.readers import read_json_file

SCHEMA = "effnas.latency-lut/1"


def layer_keys(arch: Arch, resolution: int | None = None) -> list[str]:
    """The LUT keys of every layer of `arch` at `resolution` (stem, each layer, head), in order."""
    resolution = int(resolution or arch.resolution)
    act = arch.activation
    keys = [f"stem|{arch.in_channels}|{arch.stem_channels}|k{arch.stem_kernel}|s{arch.stem_stride}|{act}|{resolution}"]
    size, last = stem_output_size(resolution, arch.stem_pool), arch.stem_channels
    for geometry in layer_geometry(arch, resolution):
        layer = geometry.layer
        keys.append(f"layer|{layer.op}|{layer.in_filters}|{layer.out_filters}|k{layer.kernel}|s{layer.stride}"
                    f"|e{layer.expand_ratio}|se{layer.se_ratio:g}|{layer.skip}|{act}|{geometry.in_size}")
        size, last = geometry.out_size, layer.out_filters
    keys.append(f"head|{last}|{arch.head_channels}|{arch.num_classes}|{act}|{size}")
    return keys


class _Head(nn.Module):
    def __init__(self, cin: int, cout: int, classes: int, activation: str) -> None:
        super().__init__()
        self.conv = ConvBnAct(cin, cout, 1, activation=activation) if cout else nn.Identity()
        self.fc = nn.Linear(cout or cin, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).mean((2, 3)))


def module_for(key: str) -> tuple[nn.Module, tuple[int, int, int]]:
    """The real torch module a key stands for and its input shape (C, H, W)."""
    kind, *fields = key.split("|")
    if kind == "stem":
        cin, cout, k, s, act, size = fields
        stem = PooledStem if s == "s4" else ConvBnAct
        return stem(int(cin), int(cout), int(k[1:]), 2, activation=act), (int(cin), int(size), int(size))
    if kind == "layer":
        op, cin, cout, k, s, e, se, skip, act, size = fields
        args = BlockArgs(repeats=1, kernel=int(k[1:]), stride=int(s[1:]), expand_ratio=int(e[1:]),
                         in_filters=int(cin), out_filters=int(cout), se_ratio=float(se[2:]), skip=skip, op=op)
        return build_layer(args, act, (1e-3, 0.01), 0.0), (int(cin), int(size), int(size))
    if kind == "head":
        cin, cout, classes, act, size = fields
        return _Head(int(cin), int(cout), int(classes), act), (int(cin), int(size), int(size))
    raise InputError(f"unknown latency table key {key!r}")


CLOCKS = ("cpu", "wall")


def _clock(clock: str, threads: int):
    """The timer: this thread's CPU time for single-threaded runs (immune to being descheduled on a
    shared machine), wall time otherwise or when asked."""
    if clock not in CLOCKS:
        raise InputError(f"clock must be one of {CLOCKS}, got {clock!r}")
    return time.thread_time if clock == "cpu" and threads == 1 else time.perf_counter


def time_module(module: nn.Module, shape: tuple[int, ...], repeats: int = 15, warmup: int = 3,
                threads: int = 1, clock: str = "cpu") -> float:
    """Median time in ms of module(x) for x of `shape` (batch included), eval + inference mode.

    clock "cpu": the calling thread's CPU time (threads = 1 only; the torch intra-op work runs on
    the calling thread), so other processes on a busy machine do not inflate it; "wall": wall time.
    """
    timer = _clock(clock, threads)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        module = module.eval().to(memory_format=torch.channels_last)
        x = torch.randn(shape).to(memory_format=torch.channels_last)
        samples = []
        with torch.inference_mode():
            for _ in range(warmup):
                module(x)
            for _ in range(repeats):
                start = timer()
                module(x)
                samples.append(timer() - start)
        return 1000.0 * statistics.median(samples)
    finally:
        torch.set_num_threads(previous)


def measure(arch: Arch, resolution: int | None = None, repeats: int = 15, warmup: int = 3, threads: int = 1,
            batch: int = 1, clock: str = "cpu") -> float:
    """End-to-end latency in ms of the built model at `resolution` (median of `repeats` runs)."""
    size = int(resolution or arch.resolution)
    torch.manual_seed(0)
    return time_module(arch.build(), (batch, arch.in_channels, size, size), repeats, warmup, threads, clock)


def default_path(threads: int = 1, clock: str = "cpu") -> Path:
    """Per-machine cache: $EFFNAS_LATENCY_LUT or ~/.cache/effnas/latency-<host>-torch<ver>-t<threads>-<clock>.json."""
    if os.environ.get("EFFNAS_LATENCY_LUT"):
        return Path(os.environ["EFFNAS_LATENCY_LUT"])
    host = platform.node() or "host"
    return Path.home() / ".cache" / "effnas" / f"latency-{host}-torch{torch.__version__}-t{threads}-{clock}.json"


def _timings(data: object, where: str) -> dict[str, float]:
    """A table's {key: finite number >= 0} object (milliseconds or factors)."""
    if not isinstance(data, dict):
        raise InputError(f"{where} must be an object of numbers")
    return {str(key): check_number(value, f"{where}[{key!r}]", 0.0, 1e9) for key, value in data.items()}


class LatencyTable:
    """Per-layer latency lookup table (ms at batch 1), timed on demand and cached in a JSON file."""

    def __init__(self, path: str | os.PathLike | None = None, threads: int = 1, repeats: int = 15,
                 warmup: int = 3, clock: str = "cpu") -> None:
        self.threads, self.repeats, self.warmup = int(threads), int(repeats), int(warmup)
        _clock(clock, self.threads)
        self.clock = clock
        if self.threads < 1 or self.repeats < 1:
            raise InputError("latency table needs threads >= 1 and repeats >= 1")
        self.path = Path(path) if path is not None else default_path(self.threads, clock)
        self.entries: dict[str, float] = {}
        self.scales: dict[str, float] = {}  # resolution -> end-to-end correction factor
        if self.path.is_file():
            try:
                data = read_json_file(self.path, "latency table")
            except InputError as error:
                raise InputError(f"cannot read latency table: {error}") from None
            if (not isinstance(data, dict) or data.get("schema") != SCHEMA or data.get("threads") != self.threads
                    or data.get("clock") != self.clock):
                raise InputError(f"{self.path} is not a {SCHEMA} table for {self.threads} thread(s), "
                                 f"{self.clock} clock")
            self.entries = _timings(data.get("entries"), f"{self.path}: entries")
            self.scales = _timings(data.get("scales", {}), f"{self.path}: scales")

    def __len__(self) -> int:
        return len(self.entries)

    def calibrate(self, archs: Iterable[Arch], resolution: int | None = None, save: bool = True) -> int:
        """Time every layer configuration of `archs` not yet in the table; returns how many were new."""
        missing = sorted({key for arch in archs for key in layer_keys(arch, resolution)} - set(self.entries))
        for key in missing:
            module, shape = module_for(key)
            torch.manual_seed(0)
            self.entries[key] = time_module(module, (1, *shape), self.repeats, self.warmup, self.threads,
                                            self.clock)
        if missing and save:
            self.save()
        return len(missing)

    def breakdown(self, arch: Arch, resolution: int | None = None) -> dict[str, tuple[int, float]]:
        """key -> (count, ms each) for `arch`, calibrating missing keys first."""
        self.calibrate([arch], resolution)
        counts = Counter(layer_keys(arch, resolution))
        return {key: (count, self.entries[key]) for key, count in counts.items()}

    def raw_sum(self, arch: Arch, resolution: int | None = None) -> float:
        """Σ over layers of the table entries, ms (missing entries are timed now)."""
        return sum(count * ms for count, ms in self.breakdown(arch, resolution).values())

    def fit_scale(self, resolution: int, archs: Iterable[Arch] | None = None, save: bool = True) -> float:
        """Fit s = median(end-to-end ms / Σ table ms) over reference `archs` (default: 5 seeded random
        members of the MnasNet space) at `resolution`; stored in the table and returned."""
        if archs is None:
            from search_spaces import MnasNetSpace

            space, rng = MnasNetSpace(), np.random.default_rng(20240607)
            archs = [space.sample(rng) for _ in range(5)]
        ratios = [measure(arch, resolution, self.repeats, self.warmup, self.threads, clock=self.clock)
                  / self.raw_sum(arch, resolution) for arch in archs]
        self.scales[str(int(resolution))] = float(statistics.median(ratios))
        if save:
            self.save()
        return self.scales[str(int(resolution))]

    def predict(self, arch: Arch, resolution: int | None = None, fit: bool = True) -> float:
        """Predicted latency in ms: s · Σ over layers of the table entry. Missing entries are timed
        now; a missing scale s for this resolution is fitted now (fit=True) or taken as 1."""
        size = int(resolution or arch.resolution)
        if str(size) not in self.scales and fit:
            self.fit_scale(size)
        return self.scales.get(str(size), 1.0) * self.raw_sum(arch, size)

    def save(self) -> Path:
        return write_json_atomic(self.path, {
            "schema": SCHEMA, "threads": self.threads, "clock": self.clock, "batch": 1, "unit": "ms",
            "repeats": self.repeats,
            "torch": torch.__version__, "machine": platform.machine(), "processor": platform.processor(),
            "host": platform.node(), "scales": dict(sorted(self.scales.items())),
            "entries": dict(sorted(self.entries.items()))})


_TABLES: dict[tuple[str, int], LatencyTable] = {}


def predict(arch: Arch, resolution: int | None = None, threads: int = 1,
            path: str | os.PathLike | None = None) -> float:
    """LUT-predicted latency of `arch` in ms (batch 1) on this machine, using the cached table."""
    location = str(path or default_path(threads))
    if (location, threads) not in _TABLES:
        _TABLES[(location, threads)] = LatencyTable(location, threads=threads)
    return _TABLES[(location, threads)].predict(arch, resolution)


__all__ = ["LatencyTable", "layer_keys", "measure", "module_for", "predict", "time_module"]
