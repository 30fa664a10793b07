"""Model export shared by `arch export` and `detector export`: the format from the -o suffix (.pt2 through
torch.export, .onnx through torch.onnx), weights from `--weights FILE` or a seeded initialisation, and the
optional onnxruntime check. torch is imported inside the functions."""

from __future__ import annotations

import argparse
import os
import stat
import time
from collections.abc import Callable, Sequence
from typing import Any

from search_spaces import InputError
from search_spaces.bounds import check_seed
from search_spaces.units import format_size

from .output import check_output_file, save_program

FORMATS = {".pt2": "pt2", ".onnx": "onnx"}


def add_export_args(parser: argparse.ArgumentParser, weights: str = "the model's state_dict") -> None:
    """-o, --weights (`weights` says what it holds), --seed and --check, the same for every export command."""
    parser.add_argument("-o", "--output", required=True,
                        help="path of the .pt2 (torch.export) or .onnx (torch.onnx) file; the suffix picks the format")
    parser.add_argument("--weights", metavar="STATE_DICT",
                        help=f"{weights}, saved by torch.save (loaded with weights_only=True); "
                             "default: the seeded initialisation")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights without --weights (default 0)")
    parser.add_argument("--check", action="store_true",
                        help=".onnx only: run it in onnxruntime (CPU) on random batches of 1 and 4 and print the max "
                             "abs difference from PyTorch")


def check_export_args(args: argparse.Namespace) -> str:
    """The format ("pt2" or "onnx") of `args.output`; every argument checked before any model is built."""
    check_output_file(args.output, tuple(FORMATS))
    fmt = FORMATS[os.path.splitext(args.output)[1]]
    check_seed(args.seed, "--seed")
    if args.check and fmt != "onnx":
        raise InputError("--check compares onnxruntime with PyTorch: it needs an .onnx output")
    if fmt == "onnx":
        from .onnx_export import require_onnx

        require_onnx()
    if args.weights is not None:
        _check_weights_file(args.weights)
    return fmt


def _check_weights_file(path: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise InputError(f"cannot read --weights file {path!r}: {error.strerror}") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"--weights {path!r} is not a regular file")


def read_state_dict(path: str) -> dict[str, Any]:
    """The tensors of a state_dict saved by torch.save, loaded with weights_only=True (no pickle code)."""
    import torch

    _check_weights_file(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 — whatever torch says, the file is not a plain state_dict
        raise InputError(f"--weights {path!r} is not a state_dict saved by torch.save (damaged, or holds "
                         "objects other than tensors)") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # (a checkpoint that wraps its state_dict)
    if not isinstance(state, dict) or not state or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise InputError(f"--weights {path!r} is not a state_dict (a mapping of names to tensors)")
    return state


def prepare_model(build: Callable[[], Any], args: argparse.Namespace) -> Any:
    """The model in eval mode: built under torch seed `args.seed` (the global RNG left as it was), then
    `args.weights` loaded into it when given."""
    import torch

    from search_spaces import load_weights

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(args.seed)
        model = build()
    if args.weights is not None:
        load_weights(model, read_state_dict(args.weights))
    return model.eval()


def write_model(model: Any, example: Any, path: str, input_name: str, output_names: Sequence[str],
                check: bool = False) -> dict[str, Any]:
    """Export `model` (eval mode) on `example` to `path` in the format its suffix names; a record of what
    was done (format, exporter, seconds, bytes, and the onnxruntime difference when `check`)."""
    import torch

    fmt = FORMATS[os.path.splitext(path)[1]]
    if fmt == "pt2":
        start = time.perf_counter()
        save_program(torch.export.export(model, (example,)), path)
        return {"format": "pt2", "exporter": "torch.export", "seconds": time.perf_counter() - start,
                "size": os.path.getsize(path)}
    from .onnx_export import export_onnx, max_difference

    # (an example batch of 2: with 1, torch.export specialises the batch dimension and the exporter must retry)
    done = export_onnx(model, torch.cat([example, example]), path, input_name, output_names)
    record = {"format": "onnx", "exporter": done.exporter, "seconds": done.seconds, "size": done.size}
    if check:
        record["max_abs_diff"], record["max_abs_output"] = max_difference(model, path, tuple(example.shape[1:]))
    return record


def describe_export(record: dict[str, Any]) -> str:
    """One line on how the file was made: exporter, batch dimension, size, time, and the check."""
    if record["format"] == "pt2":
        line = f"torch.export, batch 1, {format_size(record['size'])}B in {record['seconds']:.1f} s"
    else:
        fallback = " (the dynamo exporter failed: TorchScript fallback)" if record["exporter"] == "torchscript" else ""
        line = (f"torch.onnx {record['exporter']} exporter{fallback}, dynamic batch, "
                f"{format_size(record['size'])}B in {record['seconds']:.1f} s")
    if "max_abs_diff" in record:
        line += (f"; onnxruntime vs PyTorch (batch 1 and 4): max abs diff {record['max_abs_diff']:.2e} "
                 f"(outputs up to {record['max_abs_output']:.3g})")
    return line
