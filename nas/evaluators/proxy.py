"""Proxy training: train a candidate briefly on real images, return held-out accuracy.

The MnasNet search trained each sampled model for 5 epochs on ImageNet with 50K training images
held out as validation; this is the same recipe, sized by config for one CPU core: a bundled or
user data set (see :mod:`nas.data`), a low resolution, a training subset and a few epochs. The
network is built with ``num_classes`` set to the data set's; the objective's MACs term is not
computed here (it always uses the full-resolution target network).

The training ``seed`` sets the weights and the batch order; the held-out split and the training
subset are part of the task and come from ``data_seed`` (default 0), so two seeds of one proxy
rank architectures on the same images.

Recipe: cross-entropy (optional label smoothing), SGD+Nesterov / RMSProp / Adam, cosine or
constant learning rate after a linear warm-up, optional gradient-norm clipping, weight decay on
conv/linear weights only. Before evaluation the BatchNorm running statistics are recomputed on
training batches (cumulative average; the TF-style momentum 0.01 would leave them near their
initial values after so few steps). Deterministic for a fixed seed and thread count.

Proxy-only model options (the production builder stays TF-compatible; see docs/PROXY.md for the
measurements behind the defaults):

- ``classifier_init``: ``official`` (U(±1/√classes)) or ``zero`` (logits start at 0, loss ln C).
- ``zero_init_residual``: BN γ = 0 on the last BN of every residual branch, so each residual
  layer starts as its shortcut (Goyal et al. 2017).
- ``stop_after``: stop after this many epochs of the ``epochs`` schedule (its warm-up and learning
  rates unchanged): a prefix of the longer run, Hyperband's low fidelity. 0: train the whole schedule.
- ``score``: what ``metric`` is: ``accuracy`` (held-out top-1) or ``tse``, exp(−mean training loss
  over every step trained), Ru et al. 2021's training-speed estimate as a likelihood in (0, 1]
  (the geometric mean of the probability given to the right label while training).
- ``drop_strides``: remove the first N stride-2 steps (the stem's first), so that at proxy
  resolution the stage maps keep the proportions of the full-resolution network instead of
  reaching 1×1 by stage 6 (a 224-px network at 32 px).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from search_spaces import Arch, InputError
from search_spaces.bounds import check_seed
from search_spaces.schema import defaults, spec

from ..data import load_dataset
from ..training.loop import LoopState, TrainStep, device_of, final_epoch, fit, plan_steps
from ..training.optimizers import make_optimizer
from ..training.schedules import lr_at
from .common import build_seeded, read_options, set_threads, within
from .proxy_model import accuracy, prepare_for_proxy, proxy_geometry, recalibrate_batchnorm
from .reporter import SILENT, Reporter

OPTIMIZERS = ("sgd", "rmsprop", "adam")  # of nas.training.optimizers: the ones the proxy offers
SCHEDULES = ("cosine", "constant")
CLASSIFIER_INITS = ("official", "zero")
SCORES = ("accuracy", "tse")



@dataclass(frozen=True)
class ProxyOptions:
    """The proxy's options, declared once: type, default, bounds or choices (docs/PROXY.md)."""

    dataset: str = "digits"
    resolution: int = spec(32, check=within(8, 1024))
    subset: int = spec(600, check=within(1))
    epochs: float = spec(3.0, check=within(0.01, 1000))
    stop_after: float = spec(0.0, check=within(0.0, 1000))  # epochs of the schedule to train; 0 = all of it
    score: str = spec("accuracy", choices=SCORES)
    batch: int = spec(32, check=within(1, 65536))
    optimizer: str = spec("adam", choices=OPTIMIZERS)
    lr: float = spec(0.003, check=within(0.0, 100.0))
    momentum: float = spec(0.9, check=within(0.0, 1.0))
    weight_decay: float = spec(1e-5, check=within(0.0, 1.0))
    schedule: str = spec("cosine", choices=SCHEDULES)
    warmup: float = spec(1.0, check=within(0.0, 1000))  # epochs of linear warm-up (capped at a quarter of training)
    label_smoothing: float = spec(0.0, check=within(0.0, 0.99))
    clip_grad: float = spec(0.0, check=within(0.0, 1e6))  # max gradient L2 norm; 0 = no clipping
    classifier_init: str = spec("official", choices=CLASSIFIER_INITS)
    zero_init_residual: bool = False
    drop_strides: int = spec(0, check=within(0, 6))
    drop_connect: float = spec(0.0, check=within(0.0, 0.99))
    threads: int = spec(1, check=within(1, 1024))
    seed: int = spec(0, check=check_seed)  # weights and batch order
    data_seed: int = spec(0, check=check_seed)  # the held-out split and the training subset: the task
    val_size: int = spec(500, check=within(1))
    bn_batches: int = spec(4, check=within(0, 100000))
    device: str = "cpu"
    lazy: bool | None = None
    # processes decoding images off the training thread (ImageFolder, large CIFAR): a count, or "auto" =
    # the trial's CPUs (its runner's cpus_per_trial: torch threads on entry) - 1; bundled sets: none
    workers: str = spec("auto", check=lambda value, what: _workers(value, what))


OPTIONS = ProxyOptions  # what nas.evaluators.check_config reads
DEFAULTS: dict[str, Any] = defaults(ProxyOptions)


def _workers(value: str, what: str = "evaluator option 'workers'") -> int | None:
    """"auto" -> None, else a count of decoding processes in 0..256."""
    text = str(value).strip().lower()
    if text == "auto":
        return None
    if not text.isdigit() or int(text) > 256:
        raise InputError(f"{what} must be auto or a whole number in [0, 256], got {value!r}")
    return int(text)


def describe(options: Mapping[str, Any], train_images: int, val_images: int) -> str:
    """The proxy's description string: data, budget, optimiser and every proxy-only choice."""
    epochs, stop = options["epochs"], trained_epochs(options)
    length = f"{epochs:g} epoch{'s' if epochs != 1 else ''}"
    if stop < epochs:
        length = f"stopped after {stop:g} of {length}"
    parts = [f"{options['dataset']} {options['resolution']}px, {train_images} train imgs, "
             f"{length}, {val_images} held-out val imgs, "
             f"{options['optimizer']} lr {options['lr']:g} {options['schedule']}, batch {options['batch']}"]
    if options["score"] == "tse":
        parts.append("scored by exp(-mean training loss) (TSE)")
    if options["warmup"] != DEFAULTS["warmup"]:
        parts.append(f"warm-up {options['warmup']:g} ep")
    if options["label_smoothing"]:
        parts.append(f"label smoothing {options['label_smoothing']:g}")
    if options["clip_grad"]:
        parts.append(f"grad clip {options['clip_grad']:g}")
    if options["classifier_init"] != "official":
        parts.append(f"{options['classifier_init']}-init classifier")
    if options["zero_init_residual"]:
        parts.append("zero-init residual BN")
    if options["drop_strides"]:
        parts.append(f"first {options['drop_strides']} stride-2 step{'s' if options['drop_strides'] > 1 else ''} "
                     "at stride 1")
    if options["drop_connect"]:
        parts.append(f"drop-connect {options['drop_connect']:g}")
    if options["data_seed"] != DEFAULTS["data_seed"]:
        parts.append(f"data split {options['data_seed']}")
    return ", ".join(parts)


def trained_epochs(options: Mapping[str, Any]) -> float:
    """The epochs an evaluation trains: `epochs`, or `stop_after` when set and sooner."""
    stop = options.get("stop_after", 0)
    return min(options["epochs"], stop) if stop else options["epochs"]


def last_epoch(options: Mapping[str, Any]) -> int:
    """The number of the last epoch an evaluation trains (read options): ceil of `trained_epochs`."""
    return final_epoch(trained_epochs(options))


def epochs(config: Mapping[str, Any]) -> int:
    """How many results an evaluation with `config` reports to a `Reporter.epoch` (the last one is its
    result): ceil of the epochs it trains. The "epoch" of the final result, a trial scheduler's max_t."""
    return last_epoch(read_options(config, OPTIONS))


def check(config: Mapping[str, Any]) -> None:
    """Load (and decode) the data a trial would train on, so that bad data fails before a run starts."""
    options = read_options(config, OPTIONS)
    load_dataset(options["dataset"], resolution=options["resolution"], subset=options["subset"],
                 seed=options["data_seed"], val_size=options["val_size"], lazy=options["lazy"])


def train(model: nn.Module, fetch: Callable[[torch.Tensor], torch.Tensor], labels: torch.Tensor,
          options: Mapping[str, Any],
          after_epoch: Callable[[int, list[float]], None] | None = None,
          stream: Callable[[list[torch.Tensor]], Iterable[torch.Tensor]] | None = None,
          on_step: Callable[[int, int], None] | None = None) -> tuple[list[float], int]:
    """The proxy's training, on the engine's loop (nas.training.loop): (the loss of every step, steps
    per epoch). Seeded batch order, warm-up then the schedule (over `epochs`; training stops after
    `stop_after` when set), optional clipping; calls `on_step(done, total)` after each step and
    calls `after_epoch(epoch, losses so far)` after each pass over the data that does not end the
    training, while epoch < ceil(epochs trained). Images come from `fetch(positions)` one batch at a
    time, or, given `stream`, from `stream(the pass's batches)` (decoded ahead, e.g. by DataLoader
    workers: nas.data.stream); the batches are the same either way."""
    steps = plan_steps(len(labels), options["batch"], options["epochs"], trained_epochs(options), options["warmup"])
    optimizer = make_optimizer(model, options["optimizer"], options["lr"], options["momentum"], options["weight_decay"])

    def rate(step: int) -> float:
        return lr_at(step, steps.total, steps.warmup, options["lr"], options["schedule"])

    step = TrainStep(model, optimizer, rate, label_smoothing=options["label_smoothing"], clip_grad=options["clip_grad"])
    state = LoopState.start(options["seed"])

    def end_epoch(passes: int, last: bool) -> None:
        if after_epoch is not None and not last and passes < steps.final_epoch:
            after_epoch(passes, state.losses)

    fit(model, step, labels, fetch, steps, state, stream=stream, on_step=on_step, end_epoch=end_epoch)
    return state.losses, steps.per_epoch


def evaluate(arch: Arch, config: Mapping[str, Any], reporter: Reporter = SILENT) -> dict[str, Any]:
    """Train `arch` briefly on a real image set and return its held-out accuracy as "metric".

    config keys: see OPTIONS (unknown keys are refused). Large ImageFolder (and CIFAR) sets are decoded
    batch by batch (see nas.data.load_dataset's `lazy`) by `workers` DataLoader processes (nas.data.stream),
    into pinned memory on CUDA; the batches and the metric do not depend on the worker count. Returns
    metric (the `score`: held-out accuracy, or exp(−mean_train_loss); in [0, 1]), accuracy, train_loss
    (mean of the last epoch's steps, nats), mean_train_loss (mean of every step), epoch_losses (mean per
    epoch), val_loss, steps, proxy (description), timings (s). `reporter.step` gets each training
    step; with `reporter.epoch` the held-out accuracy is also measured and reported after every epoch
    but the last (those in `reporter.at` when given; it does not change the training: the RNG state is
    kept, so the final metric is the one a silent evaluation returns), and the result adds "epoch"
    (= `epochs(config)`) and "epoch_eval_seconds" (the per-epoch evaluations' cost).
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    options = read_options(config, OPTIONS)
    trial_cpus = torch.get_num_threads()  # the runner's trial_threads(cpus_per_trial), before ours
    threads = set_threads(options["threads"])
    device = device_of(options["device"], "evaluator option device")
    batch = options["batch"]
    workers = _workers(options["workers"])
    workers = max(0, trial_cpus - 1) if workers is None else workers
    data = load_dataset(options["dataset"], resolution=options["resolution"], subset=options["subset"],
                        seed=options["data_seed"], val_size=options["val_size"], lazy=options["lazy"],
                        workers=workers)
    if len(data.train_y) < 2:
        raise InputError(f"proxy training needs at least 2 training images, got {len(data.train_y)}")
    proxy_arch, stem_stride = proxy_geometry(arch.with_(drop_connect=options["drop_connect"]), options["drop_strides"])
    model = build_seeded(proxy_arch, data.num_classes, options["seed"])
    prepare_for_proxy(model, options["classifier_init"], options["zero_init_residual"], stem_stride)
    # channels-last: 3-4x faster depthwise convs on CPU
    model = model.to(device=device, memory_format=torch.channels_last)

    def train_fetch(positions: torch.Tensor) -> torch.Tensor:
        return data.train_batch(positions).to(device=device, memory_format=torch.channels_last)

    def val_fetch(positions: torch.Tensor) -> torch.Tensor:
        return data.val_batch(positions).to(device=device, memory_format=torch.channels_last)

    stream = None
    if data.lazy:  # decode off the training thread: DataLoader workers, pinned memory for CUDA
        pin = device.type == "cuda"
        train_stream, val_stream = data.stream("train", workers, pin), data.stream("val", workers, pin)
        recalibration = train_stream.sequential(len(data.train_y), max(batch, 32))
        held_out = val_stream.sequential(len(data.val_y), 256)

        def to_device(images: torch.Tensor) -> torch.Tensor:
            return images.to(device=device, memory_format=torch.channels_last, non_blocking=pin)

        def stream(batches: list[torch.Tensor]) -> Iterator[torch.Tensor]:
            return map(to_device, train_stream(batches))

        def train_fetch(positions: torch.Tensor) -> torch.Tensor:
            return to_device(recalibration(positions))

        def val_fetch(positions: torch.Tensor) -> torch.Tensor:
            return to_device(held_out(positions))

    train_y = data.train_y.to(device)
    describe_text = describe(options, len(data.train_y), len(data.val_y))

    def measure() -> tuple[float, float]:
        if options["bn_batches"]:
            recalibrate_batchnorm(model, train_fetch, len(train_y), max(batch, 32), options["bn_batches"])
        return accuracy(model, val_fetch, data.val_y)

    def result(acc: float, val_loss: float, losses: list[float], steps_per_epoch: int,
               train_seconds: float) -> dict[str, Any]:
        tail = losses[-steps_per_epoch:] or [float("nan")]
        epoch_losses = [sum(part) / len(part) for begin in range(0, len(losses), steps_per_epoch)
                        if (part := losses[begin:begin + steps_per_epoch])]
        mean_loss = sum(losses) / len(losses) if losses else float("nan")
        return {
            "metric": acc if options["score"] == "accuracy" else math.exp(-mean_loss),
            "evaluator": "proxy", "accuracy": acc, "val_loss": val_loss, "mean_train_loss": mean_loss,
            "train_loss": sum(tail) / len(tail), "epoch_losses": epoch_losses, "steps": len(losses),
            "proxy": describe_text, "num_classes": data.num_classes, "threads": threads, "device": str(device),
            "train_seconds": train_seconds, "seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu_start,
        }

    epoch_eval = [0.0]  # seconds spent on the per-epoch evaluations

    def after_epoch(epoch: int, losses: list[float]) -> None:
        if not reporter.wants(epoch):
            return
        began = time.perf_counter()
        forked = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=forked):  # (BN recalibration runs dropout: keep the training's RNG)
            acc, val_loss = measure()
        epoch_eval[0] += time.perf_counter() - began
        partial = result(acc, val_loss, list(losses), math.ceil(len(train_y) / batch), began - start)
        reporter.epoch({**partial, "epoch": epoch, "epoch_eval_seconds": epoch_eval[0]})

    losses, steps_per_epoch = train(model, train_fetch, train_y, options,
                                    after_epoch=after_epoch if reporter.epoch is not None else None, stream=stream,
                                    on_step=reporter.step)
    train_seconds = time.perf_counter() - start
    acc, val_loss = measure()
    final = result(acc, val_loss, losses, steps_per_epoch, train_seconds)
    if reporter.epoch is not None:
        final.update(epoch=last_epoch(options), epoch_eval_seconds=epoch_eval[0])
    return final
