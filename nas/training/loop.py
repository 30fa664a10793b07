"""The training engine's one loop: seeded batch order, one optimiser step per batch, epoch hooks.

Used by every training in the package: the proxy evaluator (and so the search trials and the
reference set, which train through it) and ``effnas train`` (inline and on each Ray Train worker).

- :func:`plan_steps`: steps per epoch (⌈images / batch⌉), the schedule's length, the warm-up (capped
  at a quarter of the schedule) and how many steps are trained (a prefix, for `stop_after`).
- :class:`LoopState`: what a resumed training needs of the loop — the batch-order generator, the
  per-step losses so far and the passes done; a state_dict of tensors and plain values.
- :class:`TrainStep`: one step — learning rate, augmentation, forward (autocast on CUDA),
  cross-entropy with label smoothing, backward (a GradScaler for fp16), clipping, the optimiser
  step, the EMA update.
- :func:`fit`: passes over the data until the planned steps are done; each pass draws a permutation
  from the generator and cuts it into batches (a batch of one image is dropped: BatchNorm needs
  two); a sharded loop (DDP rank r of w) trains on positions r, r + w, ... of every global batch,
  so the global batch and the order do not depend on the number of workers.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from search_spaces import InputError

from .ema import ModelEma

Fetch = Callable[[torch.Tensor], torch.Tensor]  # training positions -> images on the model's device
Stream = Callable[[list[torch.Tensor]], Iterable[torch.Tensor]]  # a pass's batches -> their images


@dataclass(frozen=True)
class Steps:
    """The step plan of a training: `per_epoch` steps a pass, `total` in the schedule, `stop` trained."""

    batch: int
    per_epoch: int
    total: int
    warmup: int
    stop: int
    final_epoch: int  # the number of the last pass trained: ⌈trained epochs⌉


def plan_steps(images: int, batch: int, epochs: float, trained_epochs: float, warmup_epochs: float) -> Steps:
    """The plan for `epochs` of `images` at `batch`, training the first `trained_epochs` of them;
    warm-up `warmup_epochs` (at most a quarter of the schedule)."""
    per_epoch = math.ceil(images / batch)
    total = max(1, round(epochs * per_epoch))
    warmup = min(round(warmup_epochs * per_epoch), total // 4)
    stop = min(total, max(1, round(trained_epochs * per_epoch)))
    return Steps(batch, per_epoch, total, warmup, stop, final_epoch(trained_epochs))


def final_epoch(trained_epochs: float) -> int:
    """The number of the last pass a training of `trained_epochs` epochs makes: ⌈trained⌉, at least 1."""
    return max(1, math.ceil(trained_epochs - 1e-9))


@dataclass
class LoopState:
    """The loop's own state: batch-order generator, every step's loss, passes done."""

    generator: torch.Generator
    losses: list[float] = field(default_factory=list)
    epoch: int = 0

    @classmethod
    def start(cls, seed: int) -> LoopState:
        return cls(torch.Generator().manual_seed(seed))

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "losses": list(self.losses), "epoch": self.epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])
        self.losses, self.epoch = [float(x) for x in state["losses"]], int(state["epoch"])


def device_of(name: str, what: str = "--device") -> torch.device:
    """"cpu", "cuda[:n]" or "auto" (CUDA when available) as a device; InputError (worded with `what`)
    for anything else, or for CUDA on a machine without it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise InputError(f"{what} must be cpu, cuda[:n] or auto, got {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"{what} {name}, but no CUDA device is available")
    return device


def autocast_dtype(device: torch.device, amp: str) -> torch.dtype | None:
    """The autocast dtype for `amp` (off | bf16 | fp16 | auto) on `device`: auto = bf16 on CUDA
    devices that have it, else fp16 on CUDA; never on CPU (None)."""
    if device.type != "cuda" or amp == "off":
        return None
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if amp == "bf16" else torch.float16


class TrainStep:
    """One optimiser step on a batch (module docstring); returns the batch's mean loss (nats)."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, lr_at: Callable[[int], float], *,
                 label_smoothing: float = 0.0, clip_grad: float = 0.0,
                 augment: Callable[[torch.Tensor], torch.Tensor] | None = None, ema: ModelEma | None = None,
                 ema_source: nn.Module | None = None, amp_dtype: torch.dtype | None = None) -> None:
        self.model, self.optimizer, self.lr_at = model, optimizer, lr_at
        self.label_smoothing, self.clip_grad = label_smoothing, clip_grad
        self.augment, self.ema = augment, ema
        self.ema_source = model if ema_source is None else ema_source  # the module under DDP's wrapper
        self.amp_dtype = amp_dtype
        self.scaler = torch.amp.GradScaler("cuda") if amp_dtype is torch.float16 else None

    def __call__(self, images: torch.Tensor, labels: torch.Tensor, step: int) -> float:
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr_at(step)
        if self.augment is not None:
            images = self.augment(images)
        autocast = (torch.autocast("cuda", dtype=self.amp_dtype) if self.amp_dtype is not None
                    else contextlib.nullcontext())
        with autocast:
            loss = F.cross_entropy(self.model(images), labels, label_smoothing=self.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if self.clip_grad:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            if self.clip_grad:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad)
            self.optimizer.step()
        if self.ema is not None:
            self.ema.update(self.ema_source)
        return float(loss.detach())

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(),
                "scaler": None if self.scaler is None else self.scaler.state_dict(),
                "ema": None if self.ema is None else self.ema.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])
        if self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])


def epoch_batches(order: torch.Tensor, batch: int, smallest: int = 2) -> list[torch.Tensor]:
    """`order` cut into batches of `batch` positions; a last batch under `smallest` is dropped."""
    return [index for begin in range(0, len(order), batch) if len(index := order[begin:begin + batch]) >= smallest]


def fit(model: nn.Module, step: Callable[[torch.Tensor, torch.Tensor, int], float], labels: torch.Tensor,
        fetch: Fetch, steps: Steps, state: LoopState, *, stream: Stream | None = None,
        on_step: Callable[[int, int], None] | None = None,
        end_epoch: Callable[[int, bool], None] | None = None, shard: tuple[int, int] = (0, 1)) -> LoopState:
    """Train `model` from `state` until `steps.stop` steps are done (module docstring).

    Images come from `fetch(positions)` one batch at a time or, given `stream`, from `stream(the
    pass's batches)`. `on_step(done, stop)` after each step; `end_epoch(passes done, last)` after
    each pass (then the model is put back in training mode). `shard` = (rank, world size)."""
    rank, world = shard
    model.train()
    while len(state.losses) < steps.stop:
        order = torch.randperm(len(labels), generator=state.generator)
        batches = epoch_batches(order, steps.batch, 2 * world)[:steps.stop - len(state.losses)]
        if world > 1:
            batches = [index[rank::world] for index in batches]
        images = map(fetch, batches) if stream is None else stream(batches)
        for index, batch_images in zip(batches, images, strict=True):
            state.losses.append(step(batch_images, labels[index.to(labels.device)], len(state.losses)))
            if on_step is not None:
                on_step(len(state.losses), steps.stop)
        state.epoch += 1
        if end_epoch is not None:
            end_epoch(state.epoch, len(state.losses) >= steps.stop)
            model.train()
    return state
