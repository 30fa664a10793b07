"""The converged reference set: its training config, its file schema, and reading it.

``results/reference-set/reference.jsonl`` holds one JSON line per (architecture, seed), made by
``python -m effnas.reference_set`` (how: that folder's README). Every proxy's fidelity (Kendall τ)
is measured against it, and ``fidelity.json`` beside it (benchmarks/bench_proxy_fidelity.py's
record) holds the figures reports quote. Both ship as package data: ``nas/reference_data/`` links
them (symlinks in the checkout; the wheel holds copies) and this module reads them there, so an
installed effnas reads its own copy and nothing here opens a checkout's results/ by path. This module
is the one home of the reference training config (``REFERENCE_CONFIG``, also what
``effnas evaluate --reference`` trains with) and of the row schema (``ReferenceRow``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from search_spaces import Arch, InputError

SCHEMA = "effnas.reference/1"
# Package data (pyproject: [tool.setuptools.package-data]): links to results/reference-set in a checkout.
REFERENCE_DIR = Path(__file__).resolve().parent / "reference_data"
REFERENCE_FILE = REFERENCE_DIR / "reference.jsonl"

# The proxy evaluator's options for the reference budget (see results/reference-set/README.md in the repository).
REFERENCE_CONFIG: dict[str, Any] = {
    "dataset": "mnist-cluttered", "resolution": 32, "subset": 10000, "epochs": 10, "batch": 64,
    "optimizer": "adam", "lr": 0.003, "schedule": "cosine", "weight_decay": 5e-5,
    "classifier_init": "zero", "zero_init_residual": True, "drop_strides": 0,
    "val_size": 2000, "bn_batches": 16, "threads": 1,
}


BASE_RESOLUTION = 224  # the MnasNet space's resolution: REFERENCE_CONFIG's 32 px stand for it


def scaled_pixels(pixels: int, resolution: int, base_resolution: int) -> int:
    """A proxy input size that follows a network's resolution: round(pixels × resolution / base_resolution),
    at least 8 px (the rule of the reference set and of the scaling grid)."""
    return max(8, round(pixels * resolution / base_resolution))


def reference_config_for(arch: Arch, seed: int = 0) -> dict[str, Any]:
    """REFERENCE_CONFIG for `arch`: the input resolution follows its resolution factor,
    round(32 × arch.resolution / 224) px (B0 scaled to 2× MACs by resolution alone: 45 px)."""
    pixels = scaled_pixels(REFERENCE_CONFIG["resolution"], arch.resolution, BASE_RESOLUTION)
    return {**REFERENCE_CONFIG, "resolution": pixels, "seed": seed}


@dataclass(frozen=True)
class ReferenceRow:
    """One line of reference.jsonl: `arch` is the arch JSON dict, accuracy in [0, 1], train_loss
    the last epoch's mean training loss (nats), seconds the wall time of the trial."""

    key: str
    arch: dict[str, Any]
    seed: int
    accuracy: float
    train_loss: float
    macs: int
    params: int
    seconds: float
    config: dict[str, Any]
    group: str = "random"  # named | random | scaled
    epoch_losses: list[float] = field(default_factory=list)  # mean training loss per epoch (convergence)
    worker: str = ""
    schema: str = SCHEMA

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> ReferenceRow:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise InputError(f"not a reference row (schema {SCHEMA})")
        try:
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except TypeError as error:
            raise InputError(f"reference row: {error}") from None

    @property
    def architecture(self) -> Arch:
        return Arch.from_dict(self.arch)


def read_reference(path: str | os.PathLike = REFERENCE_FILE) -> list[ReferenceRow]:
    """Every row of a reference.jsonl (a missing file is an InputError naming the command that makes it)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no reference set at {path}; make it with `python -m effnas.reference_set`")
    return list(_rows(path))


def _rows(path: Path) -> Iterator[ReferenceRow]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield ReferenceRow.from_dict(json.loads(line))
        except (json.JSONDecodeError, InputError) as error:
            raise InputError(f"{path}:{number}: {error}") from None


def mean_accuracy(rows: list[ReferenceRow]) -> dict[str, float]:
    """key -> accuracy averaged over its seeds."""
    sums: dict[str, list[float]] = {}
    for row in rows:
        sums.setdefault(row.key, []).append(row.accuracy)
    return {key: sum(values) / len(values) for key, values in sums.items()}


FIDELITY_FILE = REFERENCE_DIR / "fidelity.json"
FIDELITY_SCHEMA = "effnas.fidelity/1"
IGNORED_KEYS = ("seed", "threads", "device")  # do not change what a proxy measures


def proxy_key(config: dict[str, Any]) -> str:
    """A proxy config's identity for fidelity look-ups (seed, threads and device dropped)."""
    return json.dumps({k: v for k, v in sorted(config.items()) if k not in IGNORED_KEYS}, sort_keys=True)


def fidelity_for(config: dict[str, Any], path: str | os.PathLike = FIDELITY_FILE) -> dict[str, Any] | None:
    """The measured fidelity record (tau, rho, p-values, seed_tau, reference size) of the proxy with
    this config, from benchmarks/bench_proxy_fidelity.py's output; None when not measured."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schema") != FIDELITY_SCHEMA:
        return None
    wanted = proxy_key(config)
    for entry in data.get("proxies", []):
        if isinstance(entry, dict) and proxy_key(entry.get("config", {})) == wanted:
            return {**entry, "reference_archs": data.get("reference_archs"),
                    "reference_rows": data.get("reference_rows")}
    return None
