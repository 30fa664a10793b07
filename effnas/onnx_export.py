"""ONNX export through torch.onnx (the dynamo exporter; the TorchScript exporter only when it fails) with a
dynamic batch dimension, written through the one writer; and the onnxruntime check of the outputs.

torch, onnx and onnxruntime are imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from search_spaces import InputError
from search_spaces.atomic import write_with

ONNX_PACKAGES = ("onnx", "onnxscript", "onnxruntime")
PROTOBUF_LIMIT = 2**31 - 1  # one ONNX file (weights inside) is a protobuf message: below 2 GiB


@dataclass(frozen=True)
class OnnxExport:
    """What one export did: the exporter used ("dynamo" or "torchscript"), seconds and bytes written."""

    exporter: str
    seconds: float
    size: int


def require_onnx() -> None:
    """InputError naming the missing packages unless the `export` extra is installed."""
    import importlib.util

    missing = [name for name in ONNX_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise InputError(f".onnx export needs {', '.join(missing)}: pip install 'effnas[export]'")


@contextlib.contextmanager
def quiet_exporter() -> Iterator[None]:
    """No Python warnings and no torch.onnx / torch.export log lines while exporting."""
    names = ("torch.onnx", "torch.export", "torch._export", "torch._dynamo", "torch.fx", "onnxscript")
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)


def onnx_bytes(model: Any, example: Any, input_name: str, output_names: Sequence[str]) -> tuple[bytes, str]:
    """(the serialized ONNX model, the exporter that made it) for `model` (eval mode) on `example`
    (N×C×H×W), with the batch dimension dynamic."""
    weights = sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()])
    if weights > PROTOBUF_LIMIT:
        raise InputError(f"{weights / 2**30:.1f} GiB of weights; one .onnx file holds at most 2 GiB: export a "
                         "smaller model or use .pt2")
    try:
        with quiet_exporter():
            return _dynamo(model, example, input_name, output_names), "dynamo"
    except InputError:
        raise
    except Exception as first:  # noqa: BLE001 — whatever the dynamo exporter trips on, the TorchScript one may handle
        try:
            with quiet_exporter():
                return _torchscript(model, example, input_name, output_names), "torchscript"
        except Exception as second:  # noqa: BLE001
            raise RuntimeError(f"ONNX export failed: dynamo exporter: {type(first).__name__}: {first}; "
                               f"TorchScript exporter: {type(second).__name__}: {second}") from second


def _dynamo(model: Any, example: Any, input_name: str, output_names: Sequence[str]) -> bytes:
    import torch

    batch = torch.export.Dim("batch", min=1, max=4096)
    program = torch.onnx.export(model, (example,), None, dynamo=True, dynamic_shapes=({0: batch},),
                                input_names=[input_name], output_names=list(output_names),
                                verbose=False, report=False)
    proto = program.model_proto
    if proto.ByteSize() > PROTOBUF_LIMIT:
        raise InputError(f"the ONNX model would be {proto.ByteSize() / 2**30:.1f} GiB; one .onnx file holds at most "
                         "2 GiB: export a smaller model or use .pt2")
    return proto.SerializeToString()


def _torchscript(model: Any, example: Any, input_name: str, output_names: Sequence[str]) -> bytes:
    """The TorchScript exporter writes to a file: a private temp folder, read back, then removed."""
    import torch

    axes = {name: {0: "batch"} for name in [input_name, *output_names]}
    with tempfile.TemporaryDirectory(prefix="effnas-onnx-") as folder:
        path = os.path.join(folder, "model.onnx")
        torch.onnx.export(model, (example,), path, dynamo=False, input_names=[input_name],
                          output_names=list(output_names), dynamic_axes=axes)
        with open(path, "rb") as handle:
            return handle.read()


def export_onnx(model: Any, example: Any, path: str | os.PathLike, input_name: str,
                output_names: Sequence[str]) -> OnnxExport:
    """Export `model` to the .onnx file `path` (atomically, through the one writer)."""
    require_onnx()
    start = time.perf_counter()
    data, exporter = onnx_bytes(model, example, input_name, output_names)
    seconds = time.perf_counter() - start
    write_with(path, lambda handle: handle.write(data))
    return OnnxExport(exporter, seconds, len(data))


def max_difference(model: Any, onnx_model: bytes | str | os.PathLike, shape: Sequence[int],
                   batches: Sequence[int] = (1, 4), seed: int = 0) -> tuple[float, float]:
    """(max |onnxruntime − PyTorch| over every output and batch size, max |PyTorch output|) on random
    N×C×H×W inputs (`shape` without the batch), onnxruntime on the CPU."""
    import numpy as np
    import onnxruntime
    import torch

    source = onnx_model if isinstance(onnx_model, bytes) else os.fspath(onnx_model)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only
    session = onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    generator = torch.Generator().manual_seed(seed)
    worst, scale = 0.0, 0.0
    for batch in batches:
        images = torch.randn(batch, *shape, generator=generator)
        with torch.no_grad():
            expected = [t.numpy() for t in _flatten(model(images))]
        got = session.run(None, {name: images.numpy()})
        if len(got) != len(expected):
            raise AssertionError(f"onnxruntime gave {len(got)} outputs, PyTorch {len(expected)}")
        for ours, theirs in zip(got, expected, strict=True):
            if ours.shape != theirs.shape:
                raise AssertionError(f"output shape {ours.shape} differs from PyTorch's {theirs.shape}")
            worst = max(worst, float(np.abs(ours - theirs).max()))
            scale = max(scale, float(np.abs(theirs).max()))
    return worst, scale


def _flatten(outputs: Any) -> list[Any]:
    """A tensor, or (nested) tuples/lists of tensors, as a flat list in order."""
    if isinstance(outputs, list | tuple):
        return [t for item in outputs for t in _flatten(item)]
    return [outputs]


def calibrate(model: Any, shape: Sequence[int], batch: int = 4, seed: int = 0) -> Any:
    """`model` in eval mode with BatchNorm statistics taken from one random N(0, 1) batch.

    For checks only (exports use the model as given): a random initialisation with the default
    statistics shrinks activations block by block (EfficientNet-B0's logits are ~1e-5), so a 1e-4
    comparison would hold for any graph; calibrated, the outputs are of order one."""
    import torch

    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # (a cumulative average: one batch sets the statistics)
    model.train()
    with torch.no_grad():
        model(torch.randn(batch, *shape, generator=torch.Generator().manual_seed(seed)))
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    return model.eval()


CHECKED_ARCHS = ("efficientnet-b0", "efficientnet-b1", "efficientnet-b2", "efficientnet-b3", "mnasnet-a1",
                 "random-member", "family-member")


def checked_arch(name: str) -> Any:
    """An architecture of the ONNX checks (tests, benchmarks/bench_onnx.py): a preset, "random-member" (the
    MnasNet space's sample for seed 0) or "family-member" (the 1G-MACs member of the EfficientNet-B0 family)."""
    import numpy as np

    from scaling import make_family
    from search_spaces import MnasNetSpace, load_arch

    if name == "random-member":
        return MnasNetSpace().sample(np.random.default_rng(0)).with_(name="random-member")
    if name == "family-member":
        member = make_family(load_arch("efficientnet-b0"), targets=[10**9]).members[0]
        return member.arch.with_(name=f"family-member ({member.arch.name})")
    return load_arch(name)
