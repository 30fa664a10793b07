"""``effnas train --runner ray --workers N``: the one training engine (nas.training.run.Run) on N Ray Train
workers, data-parallel (DistributedDataParallel), writing the same run folder as the inline runner.

The driver (:func:`train_with_ray`) checks everything before a worker starts: the options, the data, the
batch against the workers (each needs 2 images of every global batch), the folder against `resume` (a
`Run` built here with shard (0, N), its `begin` writes config.json), then connects to Ray
(nas.runners.ray_runner.connect: an embedded local Ray, or a cluster after its preflight) and
:func:`check_workers` (the cluster's CPUs, and GPUs on CUDA, hold N workers). Bad input: InputError.

Each worker (:func:`train_worker`, a module-level function of the installed package; its config is plain
JSON data) builds the same `Run` with shard (rank, world) and the model wrapped in DistributedDataParallel
(gloo on CPU, nccl with device_ids on CUDA), restores the newest checkpoint — the run folder's
checkpoint.pt or Ray's (`ray.train.get_checkpoint()`), whichever holds more epochs — and trains the
remaining epochs. Every global batch is the inline run's (nas.training.loop.fit: rank r trains on
positions r, r + N, ... of it), so the run does not depend on N except for BatchNorm, whose batch
statistics are per shard, and float rounding. The recorded per-step loss is the global batch's (the
shards' losses averaged by their sizes across workers), as inline. Rank 0 writes the files (checkpoint.pt,
metrics.jsonl, TensorBoard, model.pt), then every worker calls `ray.train.report` once per epoch (Ray
Train 2.60 requires all workers to report, the same number of times: it is a barrier); rank 0 attaches a
`ray.train.Checkpoint` holding checkpoint.pt (hard link or copy), kept under ``<folder>/ray/train``
(the last one only). A worker that dies (killed, out of memory, a lost node) fails the worker group; Ray
restarts it up to `max_failures` times and the new workers continue from the checkpoint, so every
epoch is in metrics.jsonl exactly once.

Without CPUs pinned by the options (``threads``), each CPU worker trains on one torch thread (it holds
one CPU of Ray's). Workers run in the driver's working directory (relative data paths mean the same).

Progress: `trainer.fit()` runs in a thread while the driver's main thread polls metrics.jsonl (every
`POLL_S`) and calls `on_epoch(row)` there for each new epoch as it appears (the run folder is local or
shared: the driver locks and writes it too). The last row is rank 0's return value.

Ray Train version: Ray 2.60 runs Train V2 by default (``RAY_TRAIN_V2_ENABLED`` unset means on); this module
uses V2's API (`ray.train.ScalingConfig/RunConfig/FailureConfig/CheckpointConfig` are V2's classes then,
`Result.return_value`, `ray.train.report(..., checkpoint_dir_name=)`). V2's controller is an actor of
0 CPUs, so N workers need N CPUs, nothing more. Under V1 (``RAY_TRAIN_V2_ENABLED=0``, tried) the trainer
runs as a Tune trial holding a CPU of its own: 2 workers on a 2-CPU Ray waited forever ("You asked for
3.0 CPUs"), so V1 is refused up front (:func:`check_train_v2`).

Interrupting: Ctrl+C or SIGTERM in the driver (nas.runners.ray_runner's handler) ends the poll with
KeyboardInterrupt and shuts down the embedded Ray it started, workers included; the folder keeps the last
epoch's checkpoint (``--resume`` continues). On a Ray this driver did not start (a cluster, an open
`ray_runner.session()`), Ray Train's controller is an actor owned by this driver: it and its workers end
when the driver's process does (or the session shuts its Ray down), not at the KeyboardInterrupt itself.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from search_spaces import Arch, InputError

from . import checkpoint as ckpt
from .loop import device_of
from .run import Run, identity_difference, read_metrics, read_options

POLL_S = 0.5  # how often the driver looks for new rows in metrics.jsonl
RAY_FOLDER = "ray"  # under the run folder: Ray Train's storage (its copy of the latest checkpoint)
OnEpoch = Callable[[dict[str, Any]], None]


# ---------------------------------------------------------------------------------------------- driver
def check_workers(workers: int, cpus_per_worker: float = 1.0, nodes: list[dict] | None = None, *,
                  gpus_per_worker: float = 0.0) -> None:
    """Refuse `workers` that the cluster cannot hold all at once (Ray would wait for them forever):
    fewer CPUs (GPUs) on its nodes than `workers` × per worker. `nodes`: each node's resources;
    default: the live nodes of the connected cluster."""
    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    if nodes is None:
        import ray

        nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    for name, each in (("CPU", cpus_per_worker), ("GPU", gpus_per_worker)):
        if not each:
            continue
        total = sum(float(resources.get(name, 0.0)) for resources in nodes)
        fits = sum(int(float(resources.get(name, 0.0)) / each + 1e-9) for resources in nodes)  # whole workers a node
        if workers > fits:
            raise InputError(f"--workers {workers} needs {workers * each:g} {name}s; the Ray cluster has {total:g}"
                             + ("" if fits * each == total else f" ({fits} workers fit on its nodes)"))


def check_train_v2() -> None:
    """InputError unless Ray Train runs its V2 (Ray 2.60's default): V1's trainer actor holds a CPU of its
    own, so N workers on N CPUs would wait forever, and its API differs."""
    from ray.train.v2._internal.constants import V2_ENABLED_ENV_VAR, is_v2_enabled

    if not is_v2_enabled():
        raise InputError(f"effnas train --runner ray needs Ray Train V2: unset {V2_ENABLED_ENV_VAR} "
                         f"(it is {os.environ.get(V2_ENABLED_ENV_VAR)!r}) or set it to 1")


def worker_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options (checked, every field present) as each worker trains with them: one torch thread per
    CPU worker unless ``threads`` says otherwise."""
    checked = read_options(options)
    if checked["threads"] is None and device_of(checked["device"]).type == "cpu":
        checked["threads"] = 1
    return checked


def train_with_ray(arch: Arch, recipe: Mapping[str, Any], options: Mapping[str, Any], folder: str | os.PathLike, *,
                   resume: bool = False, source: Mapping[str, Any] | None = None, workers: int = 2,
                   address: str | None = None, max_failures: int = 2, on_epoch: OnEpoch | None = None
                   ) -> dict[str, Any]:
    """Train `arch` into `folder` on `workers` Ray Train workers (module docstring); returns the last
    metrics row. `address`: a Ray cluster (None: RAY_ADDRESS, else an embedded local Ray, shut down at
    the end); `max_failures`: restarts of a failed worker group; `on_epoch(row)`: in this thread, per
    new epoch. InputError (before any worker starts) for bad input."""
    import torch

    from ..runners.ray_runner import connect, local_node, release

    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    if max_failures < -1:
        raise InputError(f"max failures must be -1 (no limit) or more, got {max_failures}")
    folder = Path(folder).resolve()
    settings = worker_options(options)
    cuda = device_of(read_options(settings)["device"]).type == "cuda"
    if _embedded(address):  # (the local Ray connect would start: too many workers refused first, without starting it)
        check_workers(workers, 1.0, [local_node()], gpus_per_worker=1.0 if cuda else 0.0)
    threads = torch.get_num_threads()
    try:  # the checks: data, batch for `workers`, folder and resume identity (writes config.json)
        run = Run(arch, recipe, settings, folder, source=source, shard=(0, workers))
        run.begin(resume)
        if len(run.loop.losses) >= run.steps.stop:  # a resumed run with nothing left: as inline
            return run.train(on_epoch=on_epoch)
        seen = run.loop.epoch
    finally:
        torch.set_num_threads(threads)
    del run
    if not resume:  # (a fresh run: Ray's storage can only be a run's that never finished an epoch)
        shutil.rmtree(folder / RAY_FOLDER, ignore_errors=True)
    config = {"arch": arch.to_dict(), "recipe": dict(recipe), "options": settings, "folder": os.fspath(folder),
              "source": dict(source or {}), "cwd": os.getcwd(), "cuda": cuda}
    check_train_v2()
    started = connect(address)
    try:
        check_workers(workers, 1.0, gpus_per_worker=1.0 if cuda else 0.0)
        result = _fit(_trainer(config, workers, cuda, max_failures), folder, seen, on_epoch)
    finally:
        release(started)
    last = getattr(result, "return_value", None)  # (rank 0's: Train V2)
    return last if isinstance(last, dict) else read_metrics(folder)[-1]


def _embedded(address: str | None) -> bool:
    """Whether `connect(address)` would start an embedded local Ray (none is up, no cluster address).
    Ray is not imported for it (not imported: not up), so bad input is refused without loading Ray."""
    ray = sys.modules.get("ray")
    up = ray is not None and ray.is_initialized()
    return not up and (address or os.environ.get("RAY_ADDRESS") or "local") == "local"


def _trainer(config: dict[str, Any], workers: int, cuda: bool, max_failures: int) -> Any:
    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    return TorchTrainer(
        train_worker, train_loop_config=config,
        scaling_config=ScalingConfig(num_workers=workers, use_gpu=cuda, resources_per_worker={"CPU": 1}),
        run_config=RunConfig(storage_path=os.path.join(config["folder"], RAY_FOLDER), name="train",
                             failure_config=FailureConfig(max_failures=max_failures),
                             checkpoint_config=CheckpointConfig(num_to_keep=1)),
        torch_config=TorchConfig(backend="nccl" if cuda else "gloo"))


def _fit(trainer: Any, folder: Path, seen: int, on_epoch: OnEpoch | None) -> Any:
    """`trainer.fit()` in a thread; meanwhile (and once after) the new rows of metrics.jsonl go to
    `on_epoch` in this thread. Ray's errors are raised here; one a worker raised as InputError as it."""
    box: dict[str, Any] = {}

    def fit() -> None:
        try:
            box["result"] = trainer.fit()
        except BaseException as error:  # (re-raised in the driver's thread)
            box["error"] = error

    thread = threading.Thread(target=fit, name="effnas-ray-train", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(POLL_S)
        seen = _stream(folder, seen, on_epoch)
    _stream(folder, seen, on_epoch)
    if "error" in box:
        raise _input_error(box["error"]) or box["error"]
    return box["result"]


def _stream(folder: Path, seen: int, on_epoch: OnEpoch | None) -> int:
    """Call `on_epoch` on metrics.jsonl's rows after epoch `seen`; returns the last epoch seen."""
    if on_epoch is None:
        return seen
    for row in read_metrics(folder):
        if row["epoch"] > seen:
            on_epoch(row)
            seen = row["epoch"]
    return seen


def _input_error(error: BaseException) -> InputError | None:
    """The InputError a worker raised, when that is why the worker group failed."""
    for failure in (getattr(error, "worker_failures", None) or {}).values():
        for cause in (failure, getattr(failure, "cause", None), getattr(failure, "__cause__", None)):
            if isinstance(cause, InputError):
                return InputError(str(cause))
    return None


# ---------------------------------------------------------------------------------------------- worker
class _GlobalLoss:
    """A Run's TrainStep whose returned loss is the global batch's: the shards' mean losses averaged
    across workers by shard size (one all-reduce of two numbers a step); everything else delegated."""

    def __init__(self, step: Any, device: Any) -> None:
        self._step, self._device = step, device

    def __call__(self, images: Any, labels: Any, index: int) -> float:
        import torch
        import torch.distributed as dist

        loss = self._step(images, labels, index)
        total = torch.tensor([loss * len(labels), float(len(labels))], dtype=torch.float64, device=self._device)
        dist.all_reduce(total)
        return float(total[0] / total[1])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._step, name)


def _wrap(device: Any) -> Callable[[Any], Any]:
    from torch.nn.parallel import DistributedDataParallel

    if device.type == "cuda":
        return lambda model: DistributedDataParallel(model, device_ids=[device.index], output_device=device.index)
    return lambda model: DistributedDataParallel(model)


def _restore_newest(run: Run) -> None:
    """Restore the run folder's checkpoint.pt (Run.begin), then Ray's latest when it holds more epochs."""
    import ray.train

    run.begin(True)  # (the driver checked `resume`; a restarted worker group must continue)
    reported = ray.train.get_checkpoint()
    if reported is None:
        return
    with reported.as_directory() as directory:
        path = Path(directory) / ckpt.FILENAME
        state = ckpt.load(path) if path.is_file() else None
    if state is not None and state.epoch > run.loop.epoch:
        differs = identity_difference(state.config, run.identity)
        if differs:
            raise InputError(f"Ray's checkpoint of {os.fspath(run.folder)!r} is another run ({differs})")
        run.restore(state)


def _report(run: Run) -> None:
    """After each epoch, on every worker: `ray.train.report` (rank 0 with the epoch's checkpoint)."""
    import ray.train

    row = run.rows[-1]
    metrics = {"epoch": row["epoch"], "train_loss": row["train_loss"], "val_accuracy": row["val_accuracy"],
               "row": json.dumps(row)}
    if run.rank != 0:
        ray.train.report(metrics)
        return
    with tempfile.TemporaryDirectory(prefix="effnas-checkpoint-", ignore_cleanup_errors=True) as directory:
        target = Path(directory) / ckpt.FILENAME
        try:
            os.link(run.checkpoint_path, target)  # (checkpoint.pt is replaced, never rewritten: a link is a copy)
        except OSError:
            shutil.copyfile(run.checkpoint_path, target)
        ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(directory),
                         checkpoint_dir_name=f"epoch-{row['epoch']:05d}")


def train_worker(config: dict[str, Any]) -> dict[str, Any]:
    """Ray Train's per-worker function (module docstring); returns the last metrics row."""
    import ray.train
    import ray.train.torch

    if config.get("cwd") and os.path.isdir(config["cwd"]):
        os.chdir(config["cwd"])
    context = ray.train.get_context()
    shard = (context.get_world_rank(), context.get_world_size())
    options = dict(config["options"])
    options["device"] = str(ray.train.torch.get_device()) if config["cuda"] else "cpu"  # (the driver's choice)
    device = device_of(options["device"])
    run = Run(Arch.from_dict(config["arch"]), config["recipe"], options, Path(config["folder"]),
              source=config["source"], shard=shard, wrap=_wrap(device))
    _restore_newest(run)
    if shard[1] > 1:
        run.step = _GlobalLoss(run.step, run.device)
    return run.train(after_checkpoint=_report)
