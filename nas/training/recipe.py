"""Training recipes: one typed record (:class:`Recipe`) and a table of named recipes (RECIPES).

``efficientnet`` is the published EfficientNet setup (Tan & Le 2019 §5.2 and tensorflow/tpu's
efficientnet code; docs/PAPER_FACTS.md "Training recipe" gives the source of every value);
``adam`` is the reference set's (results/reference-set: the proxy's options under
nas.reference.REFERENCE_CONFIG). Any field can be overridden (``--opt key=value``); the resolved
recipe is written whole into a run's config.json.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from search_spaces import Arch, InputError, load_arch
from search_spaces.schema import Style, python_names, read, spec

from ..evaluators.common import within
from .optimizers import OPTIMIZERS
from .schedules import SCHEDULES

AUGMENTS = ("none", "autoaugment", "randaugment")
CROPS = ("none", "random-resized")
AMPS = ("auto", "bf16", "fp16", "off")
CLASSIFIER_INITS = ("official", "zero")
DROPOUT_RANGE = (0.2, 0.5)  # EfficientNet-B0's and B7's dropout before the classifier


def _dropout(value: str, what: str) -> None:
    if value in ("auto", "arch"):
        return
    try:
        rate = float(value)
    except ValueError:
        raise InputError(f"{what} must be auto, arch or a rate in [0, 0.99], got {value!r}") from None
    if not 0.0 <= rate <= 0.99:
        raise InputError(f"{what} must be auto, arch or a rate in [0, 0.99], got {value!r}")


@dataclass(frozen=True)
class Recipe:
    """How a network is trained (not on what data or for how long: see nas.training.run.TrainOptions)."""

    optimizer: str = spec("rmsprop-tf", choices=OPTIMIZERS)
    lr: float = spec(0.016, check=within(0.0, 100.0))  # at a batch of lr_batch images
    lr_batch: int = spec(256, check=within(0, 1 << 20))  # lr scales linearly with batch / lr_batch; 0: as given
    momentum: float = spec(0.9, check=within(0.0, 1.0))
    rms_decay: float = spec(0.9, check=within(0.0, 1.0))
    eps: float = spec(1e-3, check=within(0.0, 1.0))
    weight_decay: float = spec(1e-5, check=within(0.0, 1.0))  # conv/linear weights outside SE (L2)
    schedule: str = spec("exponential", choices=SCHEDULES)
    warmup: float = spec(5.0, check=within(0.0, 1000.0))  # epochs of linear warm-up (at most a quarter of training)
    decay_rate: float = spec(0.97, check=within(0.0, 1.0))  # exponential: lr × rate every decay_epochs
    decay_epochs: float = spec(2.4, check=within(1e-3, 1000.0))
    label_smoothing: float = spec(0.1, check=within(0.0, 0.99))
    dropout: str = spec("auto", check=_dropout)  # auto: 0.2 (B0's MACs) .. 0.5 (B7's), by log MACs; arch: its own
    drop_connect: float = spec(0.2, check=within(0.0, 0.99))  # the last block's; block i: rate × i / blocks
    ema_decay: float = spec(0.9999, check=within(0.0, 1.0))  # 0: no EMA
    augment: str = spec("autoaugment", choices=AUGMENTS)
    randaugment_n: int = spec(2, check=within(1, 16))
    randaugment_m: int = spec(9, check=within(0, 30))  # magnitude on the 0..30 scale
    crop: str = spec("random-resized", choices=CROPS)  # scale (crop_min_scale, 1), ratio (3/4, 4/3)
    crop_min_scale: float = spec(0.08, check=within(0.01, 1.0))
    flip: bool = True  # random horizontal flip
    clip_grad: float = spec(0.0, check=within(0.0, 1e6))
    classifier_init: str = spec("official", choices=CLASSIFIER_INITS)
    zero_init_residual: bool = False
    bn_batches: int = spec(0, check=within(0, 100000))  # BN statistics recomputed on N batches before each eval
    amp: str = spec("auto", choices=AMPS)  # CUDA only: bf16 where supported, else fp16 with a GradScaler
    channels_last: bool = True


# the reference set's training (nas.reference.REFERENCE_CONFIG's optimiser and model options)
ADAM = dict(optimizer="adam", lr=0.003, lr_batch=0, weight_decay=5e-5, schedule="cosine", warmup=1.0,
            label_smoothing=0.0, dropout="arch", drop_connect=0.0, ema_decay=0.0, augment="none", crop="none",
            flip=False, classifier_init="zero", zero_init_residual=True, bn_batches=16)
RECIPES: dict[str, dict[str, Any]] = {"efficientnet": {}, "adam": ADAM}
DEFAULT_RECIPE = "efficientnet"

STYLE = Style(name="recipe option {key!r}", unknown="unknown recipe option(s) {listed}; known: {known}",
              type_names=lambda field: "true or false" if bool in field.types else python_names(field), coerce=True)


def get_recipe(name: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The recipe `name` (RECIPES) with `overrides`, every field present and checked."""
    if name not in RECIPES:
        raise InputError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}")
    return read(Recipe, {**RECIPES[name], **(overrides or {})}, "", STYLE)


def scaled_lr(recipe: Mapping[str, Any], batch: int) -> float:
    """The learning rate at `batch`: lr × batch / lr_batch (linear scaling, Goyal et al. 2017), or lr."""
    return recipe["lr"] * batch / recipe["lr_batch"] if recipe["lr_batch"] else recipe["lr"]


def member_dropout(arch: Arch, setting: str) -> float:
    """The dropout before the classifier: a rate, the arch's own ("arch"), or "auto": EfficientNet's
    0.2 (B0) to 0.5 (B7) interpolated linearly in log MACs between B0's and B7's (clipped)."""
    if setting == "arch":
        return arch.dropout
    if setting != "auto":
        return float(setting)
    low, high = (load_arch(name).cost().macs for name in ("efficientnet-b0", "efficientnet-b7"))
    where = math.log(arch.cost().macs / low) / math.log(high / low)
    return DROPOUT_RANGE[0] + (DROPOUT_RANGE[1] - DROPOUT_RANGE[0]) * min(1.0, max(0.0, where))
