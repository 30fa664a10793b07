"""Training-time augmentation of the recipes, with kornia (batched, on the training device).

Why kornia: it imports beside torch 2.13.0 (torchvision from PyPI does not), works on batches of
tensors already on the device, and ships AutoAugment's ImageNet policy and RandAugment, so no policy
is written here. Its random draws come from torch's global generator, which a checkpoint saves, so a
resumed training augments as an uninterrupted one. kornia's auto-augment draws one sub-policy per
batch (not per image): a difference from the TF input pipeline, noted in docs/PAPER_FACTS.md.

The loader hands out normalised images; the pipeline undoes the normalisation (the policies expect
values in [0, 1]), augments, and normalises again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn


class Augment(nn.Module):
    """Random-resized crop, horizontal flip and AutoAugment / RandAugment, as a recipe asks."""

    def __init__(self, recipe: Mapping[str, Any], resolution: int, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        import kornia.augmentation as K
        from kornia.augmentation.auto import AutoAugment, RandAugment

        steps: list[nn.Module] = []
        if recipe["crop"] == "random-resized":
            steps.append(K.RandomResizedCrop((resolution, resolution), scale=(recipe["crop_min_scale"], 1.0)))
        if recipe["flip"]:
            steps.append(K.RandomHorizontalFlip())
        if recipe["augment"] == "autoaugment":
            steps.append(AutoAugment("imagenet"))
        elif recipe["augment"] == "randaugment":
            steps.append(RandAugment(n=recipe["randaugment_n"], m=recipe["randaugment_m"]))
        self.steps = nn.Sequential(*steps)
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32)[None, :, None, None])
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32)[None, :, None, None])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        pixels = (images * self.std + self.mean).clamp_(0.0, 1.0)
        return ((self.steps(pixels) - self.mean) / self.std).contiguous(memory_format=torch.channels_last)


def make_augment(recipe: Mapping[str, Any], resolution: int, mean: Sequence[float], std: Sequence[float],
                 device: torch.device) -> Augment | None:
    """The recipe's augmentation on `device`, or None when it asks for none."""
    if recipe["crop"] == "none" and not recipe["flip"] and recipe["augment"] == "none":
        return None
    return Augment(recipe, resolution, mean, std).to(device)
