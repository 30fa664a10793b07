"""B0 training-step throughput on CPU: effnas vs efficientnet_pytorch, same batch and resolution,
measured side by side (interleaved rounds) in one run. Target >= 1.0x, goal 1.3x."""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from search_spaces import load_arch


def step_fn(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, channels_last: bool):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    model.train()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    return step


def timed(step, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - start


def main() -> None:
    print(f"(load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n")
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from efficientnet_pytorch import EfficientNet

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    images = torch.randn(args.batch, 3, args.resolution, args.resolution)
    labels = torch.randint(0, 1000, (args.batch,))
    candidates = {
        "efficientnet_pytorch B0": step_fn(EfficientNet.from_name("efficientnet-b0"), images, labels, False),
        "effnas B0": step_fn(load_arch("efficientnet-b0").build(), images, labels, False),
        "effnas B0 channels_last": step_fn(load_arch("efficientnet-b0").build(), images, labels, True),
    }
    for step in candidates.values():  # warm-up
        step()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(args.rounds):
        for name, step in candidates.items():
            times[name].append(timed(step, args.steps) / args.steps)
    base = statistics.median(times["efficientnet_pytorch B0"])
    print(f"B0 train step, batch {args.batch} at {args.resolution}px, {args.threads} threads, "
          f"median of {args.rounds} interleaved rounds x {args.steps} steps\n")
    print("| model | s/step | images/s | vs efficientnet_pytorch |")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        seconds = statistics.median(values)
        print(f"| {name} | {seconds:.3f} | {args.batch / seconds:.1f} | {base / seconds:.2f}x |")


if __name__ == "__main__":
    main()
