"""Proxy training: train a candidate briefly on real images, return held-out accuracy.

The MnasNet search trained each sampled model for 5 epochs on ImageNet with 50K training images
held out as validation; this is the same recipe, sized by config for one CPU core: a bundled or
user data set (see :mod:`nas.data`), a low resolution, a training subset and a few epochs. The
network is built with ``num_classes`` set to the data set's; the objective's MACs term is not
computed here (it always uses the full-resolution target network).

Recipe: cross-entropy, SGD+Nesterov / RMSProp / Adam, cosine or constant learning rate with a
linear warm-up over the first epoch's steps, weight decay on conv/linear weights only. Before
evaluation the BatchNorm running statistics are recomputed on training batches (cumulative
average; the TF-style momentum 0.01 would leave them near their initial values after so few
steps). Deterministic for a fixed seed and thread count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from search_spaces import Arch, InputError

from ..data import load_dataset
from .common import build_seeded, option, set_threads

DEFAULTS: dict[str, Any] = {
    "dataset": "digits", "resolution": 32, "subset": 600, "epochs": 3, "batch": 32,
    "optimizer": "adam", "lr": 0.003, "momentum": 0.9, "weight_decay": 1e-5, "schedule": "cosine",
    "drop_connect": 0.0, "threads": 1, "seed": 0, "val_size": 500, "bn_batches": 4, "device": "cpu",
}
OPTIMIZERS = ("sgd", "rmsprop", "adam")
SCHEDULES = ("cosine", "constant")


def _device(name: str) -> torch.device:
    """"cpu", "cuda[:n]", or "auto" (CUDA when available)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise InputError(f"evaluator option 'device' must be cpu, cuda[:n] or auto, got {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError("evaluator option device=cuda, but no CUDA device is available")
    return device


def _optimizer(model: nn.Module, name: str, lr: float, momentum: float, weight_decay: float) -> torch.optim.Optimizer:
    decay = [p for n, p in model.named_parameters() if p.ndim > 1 and "se." not in n]
    plain = [p for n, p in model.named_parameters() if not (p.ndim > 1 and "se." not in n)]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=momentum > 0)
    if name == "rmsprop":  # the EfficientNet/MnasNet optimiser (TF's eps = 1e-3 applies outside the sqrt)
        return torch.optim.RMSprop(groups, lr=lr, alpha=0.9, eps=1e-3, momentum=momentum)
    return torch.optim.Adam(groups, lr=lr)


def _lr_at(step: int, total: int, warmup: int, base: float, schedule: str) -> float:
    """Linear warm-up over `warmup` steps, then cosine to 0 (or constant)."""
    if step < warmup:
        return base * (step + 1) / warmup
    if schedule == "constant":
        return base
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * base * (1.0 + math.cos(math.pi * progress))


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, fetch: Callable[[torch.Tensor], torch.Tensor], count: int, batch: int,
                          batches: int) -> None:
    """Recompute BN running mean/var as the cumulative average over `batches` training batches
    (`fetch(positions)` returns the images at positions 0..count-1, on the model's device)."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not norms:
        return
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    model.train()
    for start in range(0, min(count, batch * batches), batch):
        model(fetch(torch.arange(start, min(start + batch, count))))


@torch.no_grad()
def accuracy(model: nn.Module, fetch: Callable[[torch.Tensor], torch.Tensor], labels: torch.Tensor,
             batch: int = 256) -> tuple[float, float]:
    """(top-1 accuracy in [0, 1], mean cross-entropy) of `model` in eval mode on fetched images."""
    model.eval()
    correct, loss = 0, 0.0
    for start in range(0, len(labels), batch):
        logits = model(fetch(torch.arange(start, min(start + batch, len(labels)))))
        target = labels[start:start + batch].to(logits.device)
        correct += int((logits.argmax(1) == target).sum())
        loss += float(F.cross_entropy(logits, target, reduction="sum"))
    return correct / len(labels), loss / len(labels)


def evaluate(arch: Arch, config: Mapping[str, Any]) -> dict[str, Any]:
    """Train `arch` briefly on a real image set and return its held-out accuracy as "metric".

    config keys (defaults in DEFAULTS): dataset, resolution (px), subset (training images), epochs,
    batch, optimizer (sgd|rmsprop|adam), lr, momentum, weight_decay, schedule (cosine|constant),
    drop_connect, threads, seed, val_size (held-out images), bn_batches, device (cpu | cuda | auto), lazy.
    Large ImageFolder sets are decoded batch by batch (see nas.data.load_dataset's `lazy`).
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    config = {**DEFAULTS, **dict(config)}
    resolution = option(config, "resolution", 32, int, 8, 1024)
    subset = option(config, "subset", 600, int, 1)
    epochs = option(config, "epochs", 3, float, 0.01, 1000)
    batch = option(config, "batch", 32, int, 1, 65536)
    name = option(config, "optimizer", "adam", str, choices=OPTIMIZERS)
    schedule = option(config, "schedule", "cosine", str, choices=SCHEDULES)
    lr = option(config, "lr", 0.003, float, 0.0, 100.0)
    momentum = option(config, "momentum", 0.9, float, 0.0, 1.0)
    weight_decay = option(config, "weight_decay", 1e-5, float, 0.0, 1.0)
    drop_connect = option(config, "drop_connect", 0.0, float, 0.0, 0.99)
    seed = option(config, "seed", 0, int)
    val_size = option(config, "val_size", 500, int, 1)
    bn_batches = option(config, "bn_batches", 4, int, 0, 100000)
    threads = set_threads(config)
    dataset = str(config["dataset"])
    device = _device(str(config.get("device", "cpu")))

    lazy = config.get("lazy")
    if lazy not in (None, True, False):
        raise InputError(f"evaluator option 'lazy' must be true, false or null, got {lazy!r}")
    data = load_dataset(dataset, resolution=resolution, subset=subset, seed=seed, val_size=val_size, lazy=lazy)
    if len(data.train_y) < 2:
        raise InputError(f"proxy training needs at least 2 training images, got {len(data.train_y)}")
    model = build_seeded(arch.with_(drop_connect=drop_connect), data.num_classes, seed)
    # channels-last: 3-4x faster depthwise convs on CPU
    model = model.to(device=device, memory_format=torch.channels_last)

    def train_fetch(positions: torch.Tensor) -> torch.Tensor:
        return data.train_batch(positions).to(device=device, memory_format=torch.channels_last)

    def val_fetch(positions: torch.Tensor) -> torch.Tensor:
        return data.val_batch(positions).to(device=device, memory_format=torch.channels_last)

    train_y = data.train_y.to(device)
    optimizer = _optimizer(model, name, lr, momentum, weight_decay)
    steps_per_epoch = math.ceil(len(data.train_y) / batch)
    total = max(1, round(epochs * steps_per_epoch))
    generator = torch.Generator().manual_seed(seed)
    model.train()
    step, losses = 0, []
    while step < total:
        order = torch.randperm(len(data.train_y), generator=generator)
        for begin in range(0, len(order), batch):
            if step >= total:
                break
            index = order[begin:begin + batch]
            if len(index) < 2:  # BN needs two samples
                continue
            for group in optimizer.param_groups:
                group["lr"] = _lr_at(step, total, min(steps_per_epoch, total // 4), lr, schedule)
            loss = F.cross_entropy(model(train_fetch(index)), train_y[index.to(device)])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            step += 1
    train_seconds = time.perf_counter() - start
    if bn_batches:
        recalibrate_batchnorm(model, train_fetch, len(train_y), max(batch, 32), bn_batches)
    acc, val_loss = accuracy(model, val_fetch, data.val_y)
    tail = losses[-steps_per_epoch:] or [float("nan")]
    epochs_text = f"{epochs:g} epoch{'s' if epochs != 1 else ''}"
    return {
        "metric": acc, "evaluator": "proxy", "accuracy": acc, "val_loss": val_loss,
        "train_loss": sum(tail) / len(tail), "steps": step,
        "proxy": f"{dataset} {resolution}px, {len(data.train_y)} train imgs, {epochs_text}, "
                 f"{len(data.val_y)} held-out val imgs, {name} lr {lr:g} {schedule}, batch {batch}",
        "num_classes": data.num_classes, "threads": threads, "device": str(device), "train_seconds": train_seconds,
        "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu_start,
    }
