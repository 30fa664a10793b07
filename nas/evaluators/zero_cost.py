"""Zero-cost proxies: score an untrained network in about a second, no training.

- NASWOT (Mellor et al., "Neural Architecture Search without Training", ICML 2021): over a
  minibatch of N real images, each rectified unit gives a binary code c_i ∈ {0,1}^{N_A} (unit
  active, i.e. pre-activation > 0); K_H[i, j] = N_A − d_H(c_i, c_j) (Hamming distance), summed
  over all activation layers; score = log |det K_H|. Swish (SiLU) units use the same sign code.
- synflow (Tanaka et al., "Pruning neural networks without any data by iteratively conserving
  synaptic flow", NeurIPS 2020; as a NAS proxy in Abdelfattah et al. ICLR 2021): replace every
  parameter θ by |θ|, remove BatchNorm (identity), feed a single all-ones input in float64,
  R = Σ output; score = Σ_θ |θ ⊙ ∂R/∂θ| over conv and linear weights. The metric is ln(score)
  (the raw sum overflows float32 for deep nets; ln is monotone so rankings are unchanged).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from search_spaces import Arch
from search_spaces.bounds import check_seed
from search_spaces.schema import defaults, spec

from ..data import load_dataset
from .common import build_seeded, read_options, set_threads, within
from .reporter import SILENT, Reporter

SCORES = ("naswot", "synflow")


@dataclass(frozen=True)
class ZeroCostOptions:
    """The zero-cost evaluators' options, declared once."""

    score: str = spec("naswot", choices=SCORES)
    resolution: int = spec(32, check=within(8, 1024))  # px
    batch: int = spec(32, check=within(2, 4096))
    dataset: str = "digits"
    seed: int = spec(0, check=check_seed)
    threads: int | None = spec(None, check=within(1, 1024))


OPTIONS = ZeroCostOptions  # what nas.evaluators.check_config reads
DEFAULTS: dict[str, Any] = defaults(ZeroCostOptions)


@functools.lru_cache(maxsize=8)
def minibatch(dataset: str, resolution: int, batch: int, seed: int) -> tuple[torch.Tensor, int]:
    """A seeded random minibatch of `batch` normalised training images, and the class count."""
    data = load_dataset(dataset, resolution=resolution, seed=seed, subset=None)
    rng = np.random.default_rng([seed, 31337])
    picks = rng.choice(len(data.train_y), size=min(batch, len(data.train_y)), replace=False)
    return data.train_x[torch.from_numpy(picks)].clone(), data.num_classes


def check(config: Mapping[str, Any]) -> None:
    """Load the minibatch a trial would score on (cached), so that bad data fails before a run starts."""
    options = read_options(config, OPTIONS)
    minibatch(options["dataset"], options["resolution"], options["batch"], options["seed"])


def naswot_score(model: nn.Module, images: torch.Tensor) -> float:
    """log|K_H| of the binary activation-code kernel of `model` on a minibatch (Mellor et al. eq. 2)."""
    n = images.shape[0]
    kernel = torch.zeros(n, n, dtype=torch.float64)

    def hook(_module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        codes = (inputs[0].detach().reshape(n, -1) > 0).double()
        kernel.add_(codes @ codes.T).add_((1.0 - codes) @ (1.0 - codes).T)

    handles = [m.register_forward_pre_hook(hook) for m in model.modules() if isinstance(m, nn.ReLU | nn.SiLU)]
    try:
        model.train()
        with torch.no_grad():
            model(images)
    finally:
        for handle in handles:
            handle.remove()
    sign, logdet = torch.linalg.slogdet(kernel)
    if sign <= 0:  # singular kernel (identical codes for two images): the worst possible score
        return 0.0
    return float(logdet)


def _strip_batchnorm(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d | nn.BatchNorm1d):
            setattr(module, name, nn.Identity())
        else:
            _strip_batchnorm(child)


def synflow_score(model: nn.Module, shape: tuple[int, int, int]) -> float:
    """ln Σ|θ ⊙ ∂R/∂θ| with |θ| weights, BN removed, all-ones float64 input of `shape` (C, H, W)."""
    _strip_batchnorm(model)
    model.double().eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.abs_()
    model.zero_grad(set_to_none=True)
    output = model(torch.ones((1, *shape), dtype=torch.float64))
    output.sum().backward()
    total = 0.0
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear) and module.weight.grad is not None:
            total += float((module.weight.detach() * module.weight.grad).abs().sum())
    if not math.isfinite(total):
        return float("inf")
    return math.log(total) if total > 0 else float("-inf")


def evaluate(arch: Arch, config: Mapping[str, Any], reporter: Reporter = SILENT) -> dict[str, Any]:
    """Zero-cost score of `arch` (config: score, resolution, batch, dataset, seed, threads); it trains
    nothing, so it reports nothing."""
    start, cpu_start = time.perf_counter(), time.process_time()
    options = read_options(config, OPTIONS)
    score, resolution, batch, seed = options["score"], options["resolution"], options["batch"], options["seed"]
    dataset = options["dataset"]
    set_threads(options["threads"])
    images, num_classes = minibatch(dataset, resolution, batch, seed)
    model = build_seeded(arch, num_classes, seed)
    if score == "naswot":
        model = model.to(memory_format=torch.channels_last)  # 3-4x faster depthwise convs on CPU
        metric = naswot_score(model, images.to(memory_format=torch.channels_last))
        proxy = f"NASWOT log|K_H| on {len(images)} {dataset} images at {resolution}px (untrained, seed {seed})"
    else:
        metric = synflow_score(model, (3, resolution, resolution))
        proxy = f"synflow ln Σ|θ·∂R/∂θ| (|θ|, no BN, float64 ones input {resolution}px, seed {seed})"
    return {"metric": float(metric), "evaluator": "zero-cost", "score": score, "proxy": proxy,
            "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu_start}


def naswot(arch: Arch, config: Mapping[str, Any], reporter: Reporter = SILENT) -> dict[str, Any]:
    """The zero-cost evaluator with score = "naswot"."""
    return {**evaluate(arch, {**dict(config), "score": "naswot"}), "evaluator": "naswot"}


def synflow(arch: Arch, config: Mapping[str, Any], reporter: Reporter = SILENT) -> dict[str, Any]:
    """The zero-cost evaluator with score = "synflow"."""
    return {**evaluate(arch, {**dict(config), "score": "synflow"}), "evaluator": "synflow"}

