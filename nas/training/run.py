"""One training run in a folder: ``effnas train``'s engine, inline or on each Ray Train worker.

Files (the folder is checked, created and locked by the caller):
- ``config.json`` — the run: its identity (arch as trained, recipe resolved, data, budget, seed: what
  a ``--resume`` must match) and the settings that may change between sessions (device, runner).
- ``metrics.jsonl`` — one row per epoch (ROW_KEYS), rewritten atomically from the checkpoint's rows.
- ``checkpoint.pt`` — after every epoch, atomically (nas.training.checkpoint).
- ``model.pt`` — at the end: the EMA's state_dict (the raw model's when the recipe has no EMA), for
  ``search_spaces.load_weights`` and ``effnas arch export --weights``; ``arch.json`` is the arch it fits.
- ``tensorboard/`` — TensorBoard event files (tensorboardX) with the rows' scalars.

A resumed run restores everything the checkpoint holds and continues with the next epoch; with the
same seed on CPU it writes the same metrics as an uninterrupted run (wall times aside).
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from search_spaces import Arch, InputError
from search_spaces.atomic import check_target, write_json_atomic, write_text_atomic, write_with

from .. import migrate
from ..data import load_dataset
from ..data.loader import BUNDLED
from ..evaluators.common import build_seeded, set_threads
from ..evaluators.proxy_model import accuracy, prepare_for_proxy, recalibrate_batchnorm
from . import checkpoint as ckpt
from .augment import make_augment
from .ema import ModelEma
from .loop import LoopState, TrainStep, autocast_dtype, device_of, fit, plan_steps
from .optimizers import make_optimizer
from .options import OPTION_STYLE, TrainOptions, read_options  # noqa: F401  (re-exported)
from .recipe import member_dropout, scaled_lr
from .schedules import lr_at

SCHEMA = "effnas.train/1"
ROW_KEYS = ("epoch", "train_loss", "val_loss", "val_accuracy", "ema_val_accuracy", "lr", "images_per_s", "seconds")
BUNDLED_RESOLUTION = 32  # bundled sets' images are 8-28 px: the default input size on them


def resolution_of(arch: Arch, options: Mapping[str, Any]) -> int:
    """The input size a run trains at: --resolution, else 32 px on bundled sets, else the arch's."""
    if options["resolution"] is not None:
        return int(options["resolution"])
    return BUNDLED_RESOLUTION if str(options["data"]).lower() in BUNDLED else arch.resolution


class Run:
    """A prepared training: data loaded, model built, optimiser, EMA, loop state (restored on resume).

    `shard` = (rank, world size) under Ray Train; `wrap(model)` gives the module the steps run
    (DistributedDataParallel there); only rank 0 writes files."""

    def __init__(self, arch: Arch, recipe: Mapping[str, Any], options: Mapping[str, Any], folder: Path, *,
                 source: Mapping[str, Any] | None = None, shard: tuple[int, int] = (0, 1),
                 wrap: Callable[[nn.Module], nn.Module] | None = None) -> None:
        self.recipe, self.options, self.folder, self.shard = dict(recipe), read_options(options), Path(folder), shard
        self.rank = shard[0]
        self.threads = set_threads(self.options["threads"])
        self.device = device_of(self.options["device"])
        resolution = resolution_of(arch, self.options)
        workers = self.options["loader_workers"]
        workers = max(0, self.threads - 1) if workers is None else workers
        data = load_dataset(self.options["data"], resolution=resolution, subset=self.options["subset"],
                            seed=self.options["data_seed"], val_size=self.options["val_size"], workers=workers,
                            lazy=self.options["lazy"], val_data=self.options["val_data"])
        if self.options["batch"] > len(data.train_y):
            raise InputError(f"--batch {self.options['batch']} is larger than the {len(data.train_y)} training images")
        if self.options["batch"] < 2 * shard[1]:
            raise InputError(f"--batch {self.options['batch']} is too small for {shard[1]} workers (2 images each)")
        self.data = data
        self.arch = arch.with_(num_classes=data.num_classes, dropout=member_dropout(arch, self.recipe["dropout"]),
                               drop_connect=self.recipe["drop_connect"])
        self.lr = scaled_lr(self.recipe, self.options["batch"])
        self.identity = {
            "schema": SCHEMA, "arch": self.arch.to_dict(), "recipe": self.recipe,
            "options": {k: v for k, v in self.options.items() if k not in migrate.TRAIN_FREE},
            "resolution": resolution, "lr": self.lr, "classes": list(data.classes),
            "train_images": len(data.train_y), "val_images": len(data.val_y), "source": dict(source or {}),
        }
        self.memory = memory = torch.channels_last if self.recipe["channels_last"] else torch.contiguous_format
        model = build_seeded(self.arch, data.num_classes, self.options["seed"])
        prepare_for_proxy(model, self.recipe["classifier_init"], self.recipe["zero_init_residual"], 2)
        self.model = model.to(device=self.device, memory_format=memory)
        self.trained = self.model if wrap is None else wrap(self.model)
        optimizer = make_optimizer(self.model, self.recipe["optimizer"], self.lr, self.recipe["momentum"],
                                   self.recipe["weight_decay"], self.recipe["rms_decay"], self.recipe["eps"])
        epochs = self.options["epochs"]
        self.steps = plan_steps(len(data.train_y), self.options["batch"], epochs, epochs, self.recipe["warmup"])
        decay_steps = self.recipe["decay_epochs"] * self.steps.per_epoch

        def rate(step: int) -> float:
            return lr_at(step, self.steps.total, self.steps.warmup, self.lr, self.recipe["schedule"],
                         self.recipe["decay_rate"], decay_steps)

        self.rate = rate
        ema = ModelEma(self.model, self.recipe["ema_decay"]) if self.recipe["ema_decay"] else None
        augment = make_augment(self.recipe, resolution, data.mean, data.std, self.device)
        self.step = TrainStep(self.trained, optimizer, rate, label_smoothing=self.recipe["label_smoothing"],
                              clip_grad=self.recipe["clip_grad"], augment=augment, ema=ema, ema_source=self.model,
                              amp_dtype=autocast_dtype(self.device, self.recipe["amp"]))
        self.loop = LoopState.start(self.options["seed"])
        self.rows: list[dict[str, Any]] = []
        self.train_y, self.val_y = data.train_y.to(self.device), data.val_y
        self._open_images(data, workers)

    # ------------------------------------------------------------------ files
    @property
    def checkpoint_path(self) -> Path:
        return self.folder / ckpt.FILENAME

    def config(self) -> dict[str, Any]:
        """config.json: the identity plus the settings free to change between sessions."""
        return {**self.identity, "settings": {k: self.options[k] for k in migrate.TRAIN_FREE},
                "device": str(self.device), "threads": self.threads, "workers": self.shard[1]}

    def begin(self, resume: bool) -> None:
        """Check the folder against `resume` and restore the checkpoint; InputError (nothing written)
        for a fresh run in a used folder or a resume of another run."""
        used = self.checkpoint_path.exists() or (self.folder / "metrics.jsonl").exists()
        if not resume and used:
            raise InputError(f"{os.fspath(self.folder)!r} already holds a training run: add --resume to continue it, "
                             "or give a new --out")
        for name in ("config.json", "metrics.jsonl", ckpt.FILENAME, "model.pt", "arch.json"):
            check_target(self.folder / name)
        if resume and self.checkpoint_path.exists():
            state = ckpt.load(self.checkpoint_path)
            differs = identity_difference(state.config, self.identity)
            if differs:
                raise InputError(f"--resume: {os.fspath(self.folder)!r} is another run ({differs}); "
                                 "resume it with its own arguments, or give a new --out")
            self.restore(state)
        if self.rank == 0:
            write_json_atomic(self.folder / "config.json", self.config())

    def restore(self, state: ckpt.Checkpoint) -> None:
        self.model.load_state_dict(state.model)
        self.step.load_state_dict(state.step)
        self.loop.load_state_dict(state.loop)
        ckpt.set_rng_state(state.rng)
        self.rows = list(state.rows)
        if self.rank == 0:
            self._write_rows()

    def snapshot(self) -> ckpt.Checkpoint:
        return ckpt.Checkpoint(config=self.identity, epoch=self.loop.epoch, model=self.model.state_dict(),
                               step=self.step.state_dict(), loop=self.loop.state_dict(), rng=ckpt.rng_state(),
                               rows=list(self.rows))

    def _write_rows(self) -> None:
        write_text_atomic(self.folder / "metrics.jsonl", "".join(json.dumps(row) + "\n" for row in self.rows))

    # ------------------------------------------------------------------ training
    def evaluate(self, model: nn.Module) -> tuple[float, float]:
        """(held-out top-1, mean cross-entropy) of `model` (its BN statistics recomputed on a copy first
        when the recipe asks: bn_batches)."""
        if self.recipe["bn_batches"]:
            model = copy.deepcopy(model)
            recalibrate_batchnorm(model, self._train_fetch, len(self.train_y), max(self.options["batch"], 32),
                                  self.recipe["bn_batches"])
        return accuracy(model, self._val_fetch, self.val_y)

    def _open_images(self, data: Any, workers: int) -> None:
        """How images reach the model: tensors held on the device, or (lazy data: large ImageFolder and
        CIFAR sets) decoded batch by batch by `workers` DataLoader processes, into pinned memory on CUDA."""
        self.stream = None
        if not data.lazy:
            train_x, val_x = data.train_x.to(self.device), data.val_x.to(self.device)
            self._train_fetch = lambda p: train_x[p.to(train_x.device)].contiguous(memory_format=self.memory)
            self._val_fetch = lambda p: val_x[p.to(val_x.device)].contiguous(memory_format=self.memory)
            return
        pin = self.device.type == "cuda"
        train_stream, val_stream = data.stream("train", workers, pin), data.stream("val", workers, pin)

        def to_device(images: torch.Tensor) -> torch.Tensor:
            return images.to(device=self.device, memory_format=self.memory, non_blocking=pin)

        recalibration = train_stream.sequential(len(data.train_y), max(self.options["batch"], 32))
        held_out = val_stream.sequential(len(data.val_y), 256)
        self.stream = lambda batches: map(to_device, train_stream(batches))
        self._train_fetch = lambda p: to_device(recalibration(p))
        self._val_fetch = lambda p: to_device(held_out(p))

    def train(self, on_epoch: Callable[[dict[str, Any]], None] | None = None,
              after_checkpoint: Callable[[Run], None] | None = None) -> dict[str, Any]:
        """Train the remaining epochs; after each: measure, checkpoint, write metrics (rank 0), then
        `on_epoch(row)` and `after_checkpoint(self)`. Returns the last row (the resumed run's last
        row when nothing was left to train)."""
        writer = _tensorboard(self.folder) if self.rank == 0 else None
        clock = {"start": time.perf_counter(), "images": 0}
        step = self.step

        def counted(images: torch.Tensor, labels: torch.Tensor, index: int) -> float:
            clock["images"] += len(labels) * self.shard[1]
            return step(images, labels, index)

        def end_epoch(epoch: int, last: bool) -> None:
            seconds = time.perf_counter() - clock["start"]
            done = self.loop.losses[(epoch - 1) * self.steps.per_epoch:]
            forked = [self.device] if self.device.type == "cuda" else []
            with torch.random.fork_rng(devices=forked):
                accuracy_, val_loss = self.evaluate(self.model)
                ema_accuracy = self.evaluate(step.ema.module)[0] if step.ema is not None else None
            row = {"epoch": epoch, "train_loss": sum(done) / max(1, len(done)), "val_loss": val_loss,
                   "val_accuracy": accuracy_, "ema_val_accuracy": ema_accuracy,
                   "lr": self.rate(len(self.loop.losses) - 1), "images_per_s": clock["images"] / max(seconds, 1e-9),
                   "seconds": seconds}
            self.rows.append(row)
            if self.rank == 0:
                ckpt.save(self.checkpoint_path, self.snapshot())
                self._write_rows()
                if writer is not None:
                    for key in ROW_KEYS[1:]:
                        if row[key] is not None:
                            writer.add_scalar(key, row[key], epoch)
                    writer.flush()
            if on_epoch is not None:
                on_epoch(row)
            if after_checkpoint is not None:
                after_checkpoint(self)
            clock.update(start=time.perf_counter(), images=0)

        try:
            fit(self.trained, counted, self.train_y, self._train_fetch, self.steps, self.loop, stream=self.stream,
                end_epoch=end_epoch, shard=self.shard)
        finally:
            if writer is not None:
                writer.close()
        if self.rank == 0:
            self.save_model()
        return self.rows[-1]

    def final_state(self) -> dict[str, torch.Tensor]:
        """model.pt's state_dict: the EMA's when the recipe has one, else the trained model's."""
        module = self.step.ema.module if self.step.ema is not None else self.model
        return {k: v.detach().cpu() for k, v in module.state_dict().items()}

    def save_model(self) -> None:
        write_with(self.folder / "model.pt", lambda handle: torch.save(self.final_state(), handle))
        write_text_atomic(self.folder / "arch.json", self.arch.to_json() + "\n")


def read_metrics(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of a run folder's metrics.jsonl (written whole and atomically: no torn line)."""
    path = Path(folder) / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def identity_difference(saved: Mapping[str, Any], current: Mapping[str, Any]) -> str:
    """'' when two run identities agree, else which part differs, in words (nas.migrate.TRAIN)."""
    differs = migrate.TRAIN.differences(saved, current)
    if differs:
        return f"{differs[0]} differs"
    names = migrate.TRAIN_OPTIONS.differences(saved.get("options") or {}, current.get("options") or {})
    return f"options differ: {', '.join(names)}" if names else ""


def _tensorboard(folder: Path):
    """A tensorboardX writer under folder/tensorboard (None when tensorboardX is missing)."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(logdir=str(folder / "tensorboard"), flush_secs=30)


def train_run(arch: Arch, recipe: Mapping[str, Any], options: Mapping[str, Any], folder: str | os.PathLike, *,
              resume: bool = False, source: Mapping[str, Any] | None = None,
              on_epoch: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Train `arch` inline into `folder` (module docstring); returns the last metrics row."""
    run = Run(arch, recipe, options, Path(folder), source=source)
    run.begin(resume)
    return run.train(on_epoch=on_epoch)

