"""Issue 11 part 1: .onnx export (dynamic batch) checked by onnxruntime, --weights, --seed, bad targets.

The default suite exports B0 (efficientnet_pytorch weights, "same" padding), one random space member and
EfficientDet D0; the full list (B0–B3, MnasNet-A1, a scaled family member, D0 at 512) is the slow test and
benchmarks/bench_onnx.py. Weights are BatchNorm-calibrated so outputs are of order one (see calibrate)."""

import errno
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from effnas.onnx_export import CHECKED_ARCHS, calibrate, max_difference
from search_spaces import load_arch, load_weights

pytest.importorskip("onnxruntime")  # (a guard: `make install` installs the export extra)

TINY = ["r1_k3_s22_e1_i32_o16_se0.25", "r1_k5_s22_e6_i16_o24", "r1_k3_s22_e6_i24_o40", "r1_k3_s22_e6_i40_o80"]
TOLERANCE = 1e-4


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _calibrated_weights(model, shape, path):
    torch.save(calibrate(model, shape, batch=2).state_dict(), path)
    return path


def _check(model, onnx_path, shape):
    diff, scale = max_difference(model, onnx_path, shape, batches=(1, 4))
    assert diff <= TOLERANCE and scale > 0.1, (diff, scale)


def test_b0_with_efficientnet_pytorch_weights_and_same_padding(run_cli, tmp_path):
    efficientnet_pytorch = pytest.importorskip("efficientnet_pytorch")
    reference = efficientnet_pytorch.EfficientNet.from_name("efficientnet-b0", image_size=224)
    weights = _calibrated_weights(reference, (3, 224, 224), tmp_path / "b0_ep.pth")  # efficientnet_pytorch names
    code, out, err = run_cli("arch", "export", "efficientnet-b0", "--padding", "same", "--weights", weights,
                             "-o", tmp_path / "b0.onnx")
    assert code == 0, err
    assert "dynamo exporter, dynamic batch" in out
    model = load_weights(load_arch("efficientnet-b0").build(padding="same"),
                         torch.load(weights, weights_only=True)).eval()
    _check(model, tmp_path / "b0.onnx", (3, 224, 224))
    import onnxruntime

    images = torch.randn(4, 3, 224, 224)
    session = onnxruntime.InferenceSession(str(tmp_path / "b0.onnx"), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = reference.eval()(images).numpy()
    assert np.abs(session.run(None, {"images": images.numpy()})[0] - expected).max() <= TOLERANCE


def test_random_space_member(run_cli, tmp_path):
    from search_spaces import MnasNetSpace

    arch = MnasNetSpace().sample(np.random.default_rng(7)).with_(resolution=128)
    source = tmp_path / "member.json"
    source.write_text(json.dumps(arch.to_dict()))
    shape = (3, 128, 128)
    weights = _calibrated_weights(arch.build(), shape, tmp_path / "member.pth")
    code, out, err = run_cli("arch", "export", source, "--weights", weights, "-o", tmp_path / "member.onnx", "--check")
    assert code == 0, err
    assert "max abs diff" in out
    _check(load_weights(arch.build(), torch.load(weights, weights_only=True)).eval(), tmp_path / "member.onnx", shape)


def test_d0_class_and_box_outputs_every_level(run_cli, tmp_path):
    from detectors import efficientdet

    shape = (3, 256, 256)
    weights = _calibrated_weights(efficientdet("d0", image_size=256), shape, tmp_path / "d0.pth")
    code, out, err = run_cli("detector", "export", "d0", "--resolution", "256", "--weights", weights,
                             "-o", tmp_path / "d0.onnx")
    assert code == 0 and err == "", err  # (a fresh process's stderr: see test_same_seed_same_weights_in_pt2_and_onnx)
    import onnx

    graph = onnx.load(str(tmp_path / "d0.onnx")).graph
    levels = [f"p{level}" for level in range(3, 8)]
    assert [o.name for o in graph.output] == [f"class_{p}" for p in levels] + [f"box_{p}" for p in levels]
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param  # a named (dynamic) batch dimension
    model = efficientdet("d0", image_size=256)
    load_weights(model, torch.load(weights, weights_only=True))
    _check(model.eval(), tmp_path / "d0.onnx", shape)


def _onnx_outputs(path, images):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"images": images.numpy()})[0]


def test_same_seed_same_weights_in_pt2_and_onnx(run_cli, tmp_path):
    common = ["arch", "export", *TINY, "--resolution", "32"]
    command = [sys.executable, "-m", "effnas.cli", *common, "--seed", "5", "-o", str(tmp_path / "a.onnx")]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == "", result.stderr  # no torch warnings or exporter logs
    for name, seed in (("a.pt2", "5"), ("b.pt2", "6")):
        code, _, err = run_cli(*common, "--seed", seed, "-o", tmp_path / name)
        assert code == 0, err
    images = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        a, b = (torch.export.load(tmp_path / name).module()(images[:1]).numpy() for name in ("a.pt2", "b.pt2"))
    from_onnx = _onnx_outputs(tmp_path / "a.onnx", images)
    assert from_onnx.shape[0] == 3 and np.abs(from_onnx[:1] - a).max() <= TOLERANCE
    assert np.abs(a - b).max() > 0  # another seed, other weights


def test_torchscript_fallback_is_named(run_cli, tmp_path, monkeypatch):
    import effnas.onnx_export as onnx_export

    def no_dynamo(*args):
        raise RuntimeError("the dynamo exporter cannot trace this")

    monkeypatch.setattr(onnx_export, "_dynamo", no_dynamo)
    code, out, err = run_cli("arch", "export", *TINY, "--resolution", "32", "-o", tmp_path / "m.onnx", "--check")
    assert code == 0, err
    assert "TorchScript fallback" in out and "max abs diff" in out
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


@pytest.mark.parametrize("case", ["text", "wrong shapes", "not tensors", "a folder", "missing"])
def test_bad_weights_are_one_line(run_cli, tmp_path, case):
    path = tmp_path / "w.pth"
    if case == "text":
        path.write_text("not a state dict")
    elif case == "wrong shapes":
        torch.save({k: torch.zeros(1) for k in load_arch(TINY).build().state_dict()}, path)
    elif case == "not tensors":
        torch.save({"stem.conv.weight": [1, 2]}, path)
    elif case == "a folder":
        path.mkdir()
    code, _, err = run_cli("arch", "export", *TINY, "--resolution", "32", "--weights", path, "-o", tmp_path / "m.onnx")
    assert code == 2 and "weight" in _one_line(err)
    assert not (tmp_path / "m.onnx").exists()


def test_bad_export_options(run_cli, tmp_path, monkeypatch):
    code, _, err = run_cli("arch", "export", *TINY, "-o", tmp_path / "m.pt2", "--check")
    assert code == 2 and "--check" in _one_line(err)
    code, _, err = run_cli("arch", "export", *TINY, "-o", tmp_path / "m.bin")
    assert code == 2 and ".pt2 or .onnx" in _one_line(err)
    code, _, err = run_cli("arch", "export", *TINY, "-o", tmp_path / "m.onnx", "--seed", "-1")
    assert code == 2 and "--seed" in _one_line(err)
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else real(name, *a))
    code, _, err = run_cli("detector", "export", "d0", "-o", tmp_path / "d0.onnx")
    assert code == 2 and "effnas[export]" in _one_line(err)
    assert list(tmp_path.iterdir()) == []


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def fast_exporter(monkeypatch):
    """The writer failures need bytes to write, not a real export (the real full disk is a slow test)."""
    import effnas.onnx_export as onnx_export

    monkeypatch.setattr(onnx_export, "onnx_bytes", lambda *args: (b"onnx" * 1000, "dynamo"))


def test_full_disk_is_one_line_and_leaves_no_temp(run_cli, tmp_path, monkeypatch, fast_exporter):
    import search_spaces.atomic as atomic

    monkeypatch.setattr(atomic.os, "fsync", _no_space)
    code, _, err = run_cli("arch", "export", *TINY, "--resolution", "32", "-o", tmp_path / "m.onnx")
    line = _one_line(err)
    assert code == 1 and "No space left" in line and "m.onnx" in line  # the project's ENOSPC policy (cli.py)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_folder_is_exit_2(run_cli, tmp_path, fast_exporter):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code, _, err = run_cli("arch", "export", *TINY, "--resolution", "32", "-o", folder / "m.onnx")
        assert code == 2 and "cannot write" in _one_line(err)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_read_only_file_system_is_exit_2(run_cli, tmp_path, monkeypatch, fast_exporter):
    import search_spaces.atomic as atomic

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    code, _, err = run_cli("arch", "export", *TINY, "--resolution", "32", "-o", tmp_path / "m.onnx")
    assert code == 2 and "Read-only file system" in _one_line(err) and "m.onnx" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", CHECKED_ARCHS)
@pytest.mark.parametrize("padding", [None, "same"])
def test_full_list_matches_onnxruntime(tmp_path, name, padding):
    from effnas.onnx_export import checked_arch, export_onnx

    arch = checked_arch(name)
    shape = (3, arch.resolution, arch.resolution)
    model = calibrate(arch.build(padding=padding), shape)
    done = export_onnx(model, torch.randn(2, *shape), tmp_path / "m.onnx", "images", ["logits"])
    assert done.exporter == "dynamo"
    _check(model, tmp_path / "m.onnx", shape)


@pytest.mark.slow
def test_d0_at_512(tmp_path):
    from detectors import efficientdet
    from effnas.onnx_export import export_onnx

    shape = (3, 512, 512)
    model = calibrate(efficientdet("d0"), shape)
    outputs = [f"{kind}_p{level}" for kind in ("class", "box") for level in range(3, 8)]
    assert export_onnx(model, torch.randn(2, *shape), tmp_path / "d0.onnx", "images", outputs).exporter == "dynamo"
    _check(model, tmp_path / "d0.onnx", shape)


@pytest.mark.slow
def test_onnx_on_a_real_full_disk(tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        result = subprocess.run([sys.executable, "-m", "effnas.cli", "arch", "export", "mnasnet-a1", "-o",
                                 str(folder / "a1.onnx")], capture_output=True, text=True)
        assert result.returncode == 1 and "No space left" in _one_line(result.stderr)
        assert list(folder.iterdir()) == []
    finally:
        subprocess.run(["umount", str(folder)])


def test_weights_over_two_gib_are_refused_before_exporting():
    from effnas.onnx_export import onnx_bytes
    from search_spaces import InputError

    model = torch.nn.Linear(3, 1)
    model.register_buffer("big", torch.empty(600_000_000, device="meta"))  # 2.2 GiB of float32, never allocated
    with pytest.raises(InputError, match="at most 2 GiB"):
        onnx_bytes(model, torch.randn(2, 3), "x", ["y"])
