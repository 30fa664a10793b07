"""ONNX export checked by onnxruntime (issue 11): B0–B3, MnasNet-A1, a random space member and a scaled
family member (symmetric and TF "same" padding), and EfficientDet D0 (every class and box output).

Each model is built from seed 0 and BatchNorm-calibrated on one random batch (effnas.onnx_export.calibrate,
so outputs are of order one), exported with a dynamic batch dimension through the same code as
`effnas arch|detector export -o X.onnx`, then run by onnxruntime (CPU) on random batches of 1 and 4.
Target: max |onnxruntime − PyTorch| <= 1e-4 everywhere. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from effnas.onnx_export import CHECKED_ARCHS, calibrate, checked_arch, export_onnx, max_difference  # noqa: E402

TOLERANCE = 1e-4


def models(names: list[str], paddings: list[str], detector: bool):
    """(label, padding, model, input shape, output names) for each row."""
    for name in names:
        arch = checked_arch(name)
        shape = (arch.in_channels, arch.resolution, arch.resolution)
        for padding in paddings:
            torch.manual_seed(0)
            model = arch.build(padding=None if padding == "symmetric" else padding)
            yield arch.name, padding, calibrate(model, shape), shape, ["logits"]
    if detector:
        from detectors import efficientdet

        torch.manual_seed(0)
        model = efficientdet("d0")
        size = model.config.image_size
        levels = range(model.config.min_level, model.config.max_level + 1)
        outputs = [f"{kind}_p{level}" for kind in ("class", "box") for level in levels]
        yield "efficientdet-d0 (10 outputs)", "symmetric", calibrate(model, (3, size, size), batch=2), \
            (3, size, size), outputs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--archs", default=",".join(CHECKED_ARCHS), help="comma-separated CHECKED_ARCHS names")
    parser.add_argument("--paddings", default="symmetric,same")
    parser.add_argument("--no-detector", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    print(f"(load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; torch {torch.__version__}, "
          f"onnxruntime {__import__('onnxruntime').__version__}, {torch.get_num_threads()} threads)\n")
    print("| model | padding | input | exporter | export s (wall) | export s (CPU) | file MB | max abs diff, batch 1 | "
          "batch 4 | max abs output | within 1e-4 |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        warm = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU()).eval()
        export_onnx(warm, torch.randn(1, 3, 16, 16), path, "images", ["out"])  # (exporter imports, not timed)
        rows = models(args.archs.split(","), args.paddings.split(","), not args.no_detector)
        for label, padding, model, shape, outputs in rows:
            cpu = time.process_time()
            done = export_onnx(model, torch.randn(2, *shape), path, "images", outputs)
            cpu = time.process_time() - cpu
            one, scale = max_difference(model, path, shape, batches=(1,), seed=1)
            four, scale4 = max_difference(model, path, shape, batches=(4,), seed=4)
            ok = max(one, four) <= TOLERANCE
            failures += not ok
            print(f"| {label} | {padding} | Nx{'x'.join(map(str, shape))} | {done.exporter} | {done.seconds:.1f} | "
                  f"{cpu:.1f} | {done.size / 1e6:.1f} | {one:.1e} | {four:.1e} | {max(scale, scale4):.3g} | "
                  f"{'yes' if ok else '**no**'} |", flush=True)
    print(f"\n{'all rows' if not failures else f'{failures} row(s) NOT'} within {TOLERANCE:g}. Export time: "
          "torch.onnx.export (dynamo exporter, onnx optimiser on) and serialisation, after a warm-up export; CPU "
          f"seconds of this process (writing the file included) are less sensitive to other load. Load average at "
          f"the end: {os.getloadavg()[0]:.1f}.")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
