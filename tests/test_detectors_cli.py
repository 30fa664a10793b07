"""`effnas detector show|export`: keys, family members, bad input (exit 2, one line)."""

import json

import pytest

from scaling import make_family

KEYS = {"name", "params", "macs", "resolution", "fpn_filters", "fpn_repeats", "head_repeats", "backbone"}


def test_show_d0_json(run_cli):
    code, out, err = run_cli("detector", "show", "d0", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert set(info) >= KEYS
    assert (info["resolution"], info["fpn_filters"], info["fpn_repeats"], info["head_repeats"]) == (512, 64, 3, 3)
    assert info["backbone"] == "efficientnet-b0" and info["anchors"] == 49_104
    assert sum(p["params"] for p in info["parts"].values()) == info["params"]


def test_show_phi_on_family_member(run_cli, tmp_path):
    path = tmp_path / "family.json"
    path.write_text(make_family("mnasnet-a1", phis=[0, 1]).to_json())
    code, out, err = run_cli("detector", "show", "--phi", "1", "--backbone", path, "--member", "1", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["backbone"] == "mnasnet-a1@phi1" and info["fpn_filters"] == 88 and info["resolution"] == 640
    code, out, _ = run_cli("detector", "show", "d0", "--backbone", "mnasnet-a1")
    assert code == 0 and "mnasnet-a1" in out and "params" in out


@pytest.mark.parametrize("args, message", [
    (["d9"], "unknown detector 'd9'"),
    (["--phi", "-1"], "--phi must be >= 0"),
    ([], "either a detector NAME"),
    (["d0", "--phi", "1"], "either a detector NAME"),
    (["d0", "--resolution", "500"], "multiple of 128"),
    (["d0", "--member", "0"], "--member needs --backbone"),
    (["d0", "--backbone", "nosuch.json", "--member", "0"], "nosuch.json"),
    (["d0", "--backbone", "efficientnet-b99"], "unknown architecture"),
])
def test_bad_input_exits_2_with_one_line(run_cli, args, message):
    code, out, err = run_cli("detector", "show", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_bad_family_files(run_cli, tmp_path):
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"schema": "effnas.arch/1", "members": []}))
    code, _, err = run_cli("detector", "show", "d0", "--backbone", wrong, "--member", "0")
    assert code == 2 and "schema" in err and err.count("\n") == 1
    good = tmp_path / "family.json"
    good.write_text(make_family("efficientnet-b0", phis=[0]).to_json())
    code, _, err = run_cli("detector", "show", "d0", "--backbone", good, "--member", "3")
    assert code == 2 and "out of range" in err
    code, _, err = run_cli("detector", "show", "d0", "--backbone", good)
    assert code == 2 and "--member" in err
    shallow = tmp_path / "shallow.json"
    blocks = ["r1_k3_s11_e1_i32_o16", "r2_k3_s22_e6_i16_o24"]
    shallow.write_text(json.dumps({"schema": "effnas.arch/1", "blocks": blocks}))
    code, _, err = run_cli("detector", "show", "d0", "--backbone", shallow)
    assert code == 2 and "strides 8/16/32" in err


def test_export_refuses_bad_path(run_cli, tmp_path):
    code, _, err = run_cli("detector", "export", "d0", "-o", tmp_path / "model.bin")
    assert code == 2 and ".pt2 or .onnx" in err
    code, _, err = run_cli("detector", "export", "d0", "-o", tmp_path / "missing" / "model.pt2")
    assert code == 2 and "does not exist" in err


@pytest.mark.slow
def test_export_round_trip(run_cli, tmp_path):
    import torch

    path = tmp_path / "d0.pt2"
    code, out, err = run_cli("detector", "export", "d0", "--resolution", "256", "-o", path)
    assert code == 0, err
    program = torch.export.load(path)
    class_out, box_out = program.module()(torch.randn(1, 3, 256, 256))
    assert [o.shape[-1] for o in class_out] == [32, 16, 8, 4, 2] and box_out[0].shape[1] == 36
