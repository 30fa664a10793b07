"""`effnas train`'s engine against a minimal hand-written loop, and its B0 step against
efficientnet_pytorch's, measured side by side (interleaved rounds) in one run.

1. Engine overhead: nas.training.run.train_run (EMA every step, checkpoint.pt + metrics.jsonl +
   TensorBoard every epoch, held-out evaluation of the model and of the EMA) against a hand-written
   loop on the same model, data (real digits), batch, optimiser (TF RMSProp), learning-rate rule and
   held-out pass, without EMA, checkpoints or files; and the engine with the EMA off. Target:
   overhead ≤ 5%. (With the EMA on, the engine also evaluates the EMA on the held-out images: a second
   forward pass over them each epoch, which is work a hand loop reporting EMA accuracy does too.)
2. B0's training step: the engine's TrainStep on effnas's B0 (channels_last, label smoothing,
   TF RMSProp) against a plain step (same loss and optimiser) on efficientnet_pytorch's B0. Target ≥ 1.3×.

    python benchmarks/bench_train.py [--arch efficientnet-b0] [--resolution 32] [--batch 32] [--images 640]
        [--epochs 2] [--rounds 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nas.data import load_dataset  # noqa: E402
from nas.evaluators.proxy_model import accuracy  # noqa: E402
from nas.training.ema import ModelEma  # noqa: E402
from nas.training.loop import TrainStep  # noqa: E402
from nas.training.optimizers import make_optimizer  # noqa: E402
from nas.training.recipe import get_recipe, scaled_lr  # noqa: E402
from nas.training.run import train_run  # noqa: E402
from search_spaces import load_arch  # noqa: E402

# the engine's recipe for the overhead comparison: no augmentation (not overhead: work the hand loop
# would do too), everything else the efficientnet recipe's
RECIPE = get_recipe("efficientnet", {"augment": "none", "crop": "none", "flip": False, "dropout": "arch"})


def engine_run(arch, options: dict, recipe: dict = RECIPE) -> float:
    folder = Path(tempfile.mkdtemp(prefix="bench-train-"))
    try:
        began = time.perf_counter()
        train_run(arch, recipe, options, folder)
        return time.perf_counter() - began
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def hand_run(arch, options: dict, ema_decay: float = 0.0) -> float:
    """The same training written plainly: seed, build, shuffle, step, evaluate after each epoch (with
    `ema_decay`: an EMA updated every step and evaluated too, as the engine does)."""
    began = time.perf_counter()
    data = load_dataset(options["data"], resolution=options["resolution"], subset=options["subset"],
                        val_size=options["val_size"], lazy=False)
    torch.manual_seed(options["seed"])
    model = arch.with_(num_classes=data.num_classes, drop_connect=RECIPE["drop_connect"]).build()
    model = model.to(memory_format=torch.channels_last)
    lr = scaled_lr(RECIPE, options["batch"])
    optimizer = make_optimizer(model, "rmsprop-tf", lr, 0.9, 1e-5)
    generator = torch.Generator().manual_seed(options["seed"])
    ema = ModelEma(model, ema_decay) if ema_decay else None
    x, y = data.train_x, data.train_y
    for _ in range(options["epochs"]):
        model.train()
        order = torch.randperm(len(y), generator=generator)
        for begin in range(0, len(order), options["batch"]):
            index = order[begin:begin + options["batch"]]
            if len(index) < 2:
                continue
            loss = F.cross_entropy(model(x[index].contiguous(memory_format=torch.channels_last)), y[index],
                                   label_smoothing=0.1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if ema is not None:
                ema.update(model)
        for evaluated in [model] if ema is None else [model, ema.module]:
            accuracy(evaluated, lambda p: data.val_x[p].contiguous(memory_format=torch.channels_last), data.val_y)
    return time.perf_counter() - began


def step_rows(args) -> list[tuple[str, float]]:
    from efficientnet_pytorch import EfficientNet

    torch.manual_seed(0)
    images = torch.randn(args.batch, 3, args.step_resolution, args.step_resolution)
    labels = torch.randint(0, 1000, (args.batch,))
    ours = load_arch("efficientnet-b0").build().to(memory_format=torch.channels_last)
    engine = TrainStep(ours, make_optimizer(ours, "rmsprop-tf", 0.01, 0.9, 1e-5), lambda step: 0.01,
                       label_smoothing=0.1)
    cl_images = images.contiguous(memory_format=torch.channels_last)
    theirs = EfficientNet.from_name("efficientnet-b0")
    theirs_opt = make_optimizer(theirs, "rmsprop-tf", 0.01, 0.9, 1e-5)

    def their_step() -> None:
        loss = F.cross_entropy(theirs(images), labels, label_smoothing=0.1)
        theirs_opt.zero_grad(set_to_none=True)
        loss.backward()
        theirs_opt.step()

    candidates = {"efficientnet_pytorch B0, plain step": their_step,
                  "effnas B0, engine TrainStep": lambda: engine(cl_images, labels, 0)}
    for step in candidates.values():
        step()
    times = {name: [] for name in candidates}
    for _ in range(args.rounds):
        for name, step in candidates.items():
            began = time.perf_counter()
            for _ in range(args.steps):
                step()
            times[name].append((time.perf_counter() - began) / args.steps)
    return [(name, statistics.median(values)) for name, values in times.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="efficientnet-b0")
    parser.add_argument("--data", default="digits")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--images", type=int, default=640)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--val-size", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--step-resolution", type=int, default=224)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"(load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n")
    arch = load_arch(args.arch)
    options = {"data": args.data, "epochs": args.epochs, "batch": args.batch, "subset": args.images,
               "val_size": args.val_size, "resolution": args.resolution, "threads": args.threads, "seed": 0}
    no_ema = {**RECIPE, "ema_decay": 0.0}
    engine_run(arch, options), hand_run(arch, options)  # warm-up (data cached, kernels chosen)
    engine, plain, hand, hand_ema = [], [], [], []
    for _ in range(args.rounds):
        engine.append(engine_run(arch, options))
        plain.append(engine_run(arch, options, no_ema))
        hand.append(hand_run(arch, options))
        hand_ema.append(hand_run(arch, options, RECIPE["ema_decay"]))
    steps = args.epochs * -(-args.images // args.batch)
    e, p, h, he = (statistics.median(times) for times in (engine, plain, hand, hand_ema))
    print(f"Engine overhead: {args.arch} at {args.resolution} px, batch {args.batch}, {args.images} {args.data} images "
          f"x {args.epochs} epochs ({steps} steps, held-out {args.val_size}), {args.threads} threads, "
          f"median of {args.rounds} interleaved rounds (each run includes loading the data and building the model)\n")
    print("| loop | seconds | images/s | overhead vs hand-written |")
    print("|---|---:|---:|---:|")
    print(f"| hand-written (no EMA, no files) | {h:.2f} | {args.images * args.epochs / h:.0f} | – |")
    print(f"| effnas train engine, no EMA (checkpoint, metrics, TensorBoard) | {p:.2f} | "
          f"{args.images * args.epochs / p:.0f} | {100 * (p / h - 1):+.1f}% |")
    print(f"| hand-written + EMA (updated every step, evaluated every epoch) | {he:.2f} | "
          f"{args.images * args.epochs / he:.0f} | – |")
    print(f"| effnas train engine with EMA (+ checkpoint, metrics, TensorBoard) | {e:.2f} | "
          f"{args.images * args.epochs / e:.0f} | {100 * (e / he - 1):+.1f}% vs hand + EMA |")
    rows = step_rows(args)
    base = rows[0][1]
    print(f"\nB0 training step, batch {args.batch} at {args.step_resolution} px, {args.threads} threads, "
          f"median of {args.rounds} interleaved rounds x {args.steps} steps\n")
    print("| step | s/step | images/s | vs efficientnet_pytorch |")
    print("|---|---:|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.3f} | {args.batch / seconds:.1f} | {base / seconds:.2f}x |")


if __name__ == "__main__":
    main()
