"""The proxy's network: its geometry at proxy resolution (`drop_strides`), its initialisation
(`classifier_init`, `zero_init_residual`), batch-norm recalibration and held-out accuracy — the
model-side half of :mod:`nas.evaluators.proxy` (which trains and measures with them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from search_spaces import Arch


def proxy_geometry(arch: Arch, drop_strides: int) -> tuple[Arch, int]:
    """(arch with its first stride-2 stages set to stride 1, stem stride): the first `drop_strides`
    stride-2 steps of the network, counting the stem's first, become stride 1."""
    stem_stride = 2
    if drop_strides <= 0:
        return arch, stem_stride
    stem_stride, left = 1, drop_strides - 1
    blocks = list(arch.blocks)
    for index, block in enumerate(blocks):
        if left and block.stride == 2:
            blocks[index] = replace(block, stride=1)
            left -= 1
    return arch.with_(blocks=tuple(blocks)), stem_stride


def prepare_for_proxy(model: nn.Module, classifier_init: str, zero_init_residual: bool, stem_stride: int) -> None:
    """Apply the proxy-only model options to a model built by the production builder."""
    if stem_stride != 2:
        model.stem.conv.stride = (stem_stride, stem_stride)
    if classifier_init == "zero":
        nn.init.zeros_(model.classifier.weight)
        nn.init.zeros_(model.classifier.bias)
    if zero_init_residual:
        for layer in model.blocks:
            if layer.residual:
                nn.init.zeros_(layer.last_bn.weight)


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
