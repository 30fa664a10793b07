"""The ImageFolder data path at 224 px: today's one-thread loop vs the DataLoader (nas.data.stream) with
0/1/2 worker processes, side by side in one run (interleaved rounds, medians, ratios).

A generated ImageFolder of real-size JPEGs (500x375, smooth random content plus noise, quality 90, 10 class
folders) in a temporary directory. Two measurements per mode:

- decoded: images/s of one pass over the training split, batches consumed as they come (what a GPU would
  be fed: the training cost taken out);
- decoded + trained: images/s of the proxy's own training loop (nas.evaluators.proxy.train) on a B0
  (efficientnet-b0, 224 px, channels-last, RMSProp as b0-paper, 1 training thread as b0-paper's trials).

"today" is the loop before the DataLoader: `ImageData.train_batch(positions)` decoding each batch on the
training thread. Run: python benchmarks/bench_data_path.py [--images 200 --rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nas.data import load_dataset  # noqa: E402
from nas.evaluators.proxy import train  # noqa: E402
from search_spaces import load_arch  # noqa: E402


def make_folder(root: Path, images: int, classes: int = 10, size=(500, 375), seed: int = 0) -> float:
    """`images` JPEGs in `classes` folders; returns their mean size in KB."""
    rng = np.random.default_rng(seed)
    total = 0
    for i in range(images):
        folder = root / f"n{i % classes:08d}"
        folder.mkdir(exist_ok=True)
        coarse = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).resize(size, Image.BICUBIC)
        pixels = np.asarray(coarse, dtype=np.float32) + rng.normal(0, 10, (size[1], size[0], 3))
        path = folder / f"img_{i:05d}.JPEG"
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=90)
        total += path.stat().st_size
    return total / images / 1024


def batches_of(count: int, batch: int, seed: int) -> list[torch.Tensor]:
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    return [order[b:b + batch] for b in range(0, count, batch)]


CPU_MS: dict[str, list[float]] = {}  # CPU ms per decoded image on the calling process (no workers)


def decode_rate(data, mode: str, batch: int) -> float:
    batches = batches_of(len(data.train_y), batch, 1)
    if mode == "today":
        start, cpu = time.perf_counter(), time.process_time()
        for positions in batches:
            data.train_batch(positions)
        CPU_MS.setdefault(mode, []).append(1000 * (time.process_time() - cpu) / len(data.train_y))
    elif mode.endswith(" 0"):
        stream = data.stream("train", 0)
        start, cpu = time.perf_counter(), time.process_time()
        for _ in stream(batches):
            pass
        CPU_MS.setdefault(mode, []).append(1000 * (time.process_time() - cpu) / len(data.train_y))
    else:
        stream = data.stream("train", int(mode.split()[-1]))
        list(stream(batches[:1]))  # start the workers (kept for the pass, as across epochs)
        start = time.perf_counter()
        for _ in stream(batches):
            pass
    return len(data.train_y) / (time.perf_counter() - start)


def train_rate(data, mode: str, batch: int, steps: int) -> float:
    torch.set_num_threads(1)
    model = load_arch("efficientnet-b0").with_(num_classes=data.num_classes).build()
    model = model.to(memory_format=torch.channels_last)
    options = {"batch": batch, "seed": 0, "optimizer": "rmsprop", "lr": 0.016, "momentum": 0.9,
               "weight_decay": 1e-5, "epochs": steps * batch / len(data.train_y), "warmup": 0.0,
               "schedule": "cosine", "label_smoothing": 0.0, "clip_grad": 0.0}

    def fetch(positions: torch.Tensor) -> torch.Tensor:
        return data.train_batch(positions).contiguous(memory_format=torch.channels_last)

    stream = None
    if mode != "today":
        source = data.stream("train", int(mode.split()[-1]))
        list(source(batches_of(len(data.train_y), batch, 2)[:1]))  # start the workers

        def stream(batches):
            return (x.contiguous(memory_format=torch.channels_last) for x in source(batches))

    start = time.perf_counter()
    losses, _ = train(model, fetch, data.train_y, options, stream=stream)
    return len(losses) * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--decode-threads", type=int, default=1)
    args = parser.parse_args()
    load = [os.getloadavg()[0]]
    torch.set_num_threads(args.decode_threads)
    modes = ["today", "DataLoader 0", "DataLoader 1", "DataLoader 2"]
    decoded: dict[str, list[float]] = {m: [] for m in modes}
    trained: dict[str, list[float]] = {m: [] for m in modes}
    with tempfile.TemporaryDirectory() as tmp:
        kb = make_folder(Path(tmp), args.images)
        data = load_dataset(tmp, resolution=224, subset=None, seed=0, val_size=args.images // 5, lazy=True)
        decode_rate(data, "today", 32), train_rate(data, "today", args.batch, 1)  # warm-up (untimed)
        for _ in range(args.rounds):
            for mode in modes:
                decoded[mode].append(decode_rate(data, mode, 32))
            for mode in modes:
                trained[mode].append(train_rate(data, mode, args.batch, args.steps))
            load.append(os.getloadavg()[0])
    print(f"{args.images} JPEGs 500x375 (mean {kb:.0f} KB), {len(data.train_y)} in the training split, "
          f"10 classes; {os.cpu_count()} cores; 1-min load average {min(load):.1f}-{max(load):.1f}; "
          f"median of {args.rounds} interleaved rounds\n")
    print("| path | decoded: images/s | vs today | decoded + trained (B0 224 px, batch "
          f"{args.batch}, 1 thread): images/s | vs today |")
    print("|---|---:|---:|---:|---:|")
    base_d, base_t = statistics.median(decoded["today"]), statistics.median(trained["today"])
    for mode in modes:
        d, t = statistics.median(decoded[mode]), statistics.median(trained[mode])
        label = "today (Pillow per batch on the training thread)" if mode == "today" else \
            f"DataLoader, {mode.split()[-1]} worker{'s' if mode[-1] != '1' else ''}"
        print(f"| {label} | {d:.1f} | {d / base_d:.2f}x | {t:.2f} | {t / base_t:.2f}x |")
    print("\nCPU time per decoded image (500x375 JPEG -> 224 px, normalised; process time, 1 thread): "
          + ", ".join(f"{m} {statistics.median(v):.2f} ms" for m, v in CPU_MS.items()))
    print(f"\nper-round decoded images/s: { {m: [round(v, 1) for v in decoded[m]] for m in modes} }")
    print(f"per-round trained images/s: { {m: [round(v, 2) for v in trained[m]] for m in modes} }")


if __name__ == "__main__":
    main()
