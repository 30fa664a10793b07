"""`effnas arch` and `effnas space` commands: JSON contract, exports, bad input."""

import json
import subprocess
import sys

import pytest
import torch


def test_arch_show_json_contract(run_cli):
    code, out, _ = run_cli("arch", "show", "efficientnet-b0", "--json")
    info = json.loads(out)
    assert code == 0
    assert {"name", "params", "macs", "resolution", "width", "depth", "blocks"} <= set(info)
    assert info["params"] == 5_288_548


def test_arch_show_scaled_and_blocks(run_cli):
    code, out, _ = run_cli("arch", "show", "efficientnet-b0", "--width", "1.1", "--depth", "1.2",
                           "--resolution", "260", "--json")
    b2 = json.loads(run_cli("arch", "show", "efficientnet-b2", "--json")[1])
    assert code == 0 and json.loads(out)["macs"] == b2["macs"]
    code, out, _ = run_cli("arch", "show", "r1_k3_s11_e1_i32_o16", "r2_k3_s22_e6_i16_o24")
    assert code == 0 and "params" in out


@pytest.mark.parametrize("args", [
    ["arch", "show", "r1_k3_zz"], ["arch", "show", "efficientnet-b9"], ["arch", "show", "missing.json"],
    ["arch", "show", "efficientnet-b0", "--width", "0"], ["arch", "show", "efficientnet-b0", "--resolution", "-3"],
    ["arch", "show"], ["space", "sample", "--n", "0"], ["arch", "show", "r1_k3_s33_e1_i32_o16"],
    ["nope"],
])
def test_bad_input_exit_2_one_line(run_cli, args):
    code, _, err = run_cli(*args)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err


def test_bad_input_as_a_process_has_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "effnas.cli", "arch", "show", "r1_k3_s11_e1_i32_o16_se2"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_space_sample_json(run_cli):
    code, out, _ = run_cli("space", "sample", "--n", "3", "--seed", "5", "--json")
    members = json.loads(out)["members"]
    assert code == 0 and len(members) == 3 and all(m["macs"] > 0 for m in members)
    assert json.loads(run_cli("space", "sample", "--n", "3", "--seed", "5", "--json")[1])["members"] == members


def test_arch_export_and_graph(run_cli, tmp_path):
    target = tmp_path / "tiny.pt2"
    code, _, err = run_cli("arch", "export", "r1_k3_s22_e1_i32_o16", "r1_k3_s22_e6_i16_o24", "--resolution", "32",
                           "-o", target)
    assert code == 0, err
    program = torch.export.load(target)
    assert program.module()(torch.randn(1, 3, 32, 32)).shape == (1, 1000)
    code, _, _ = run_cli("arch", "graph", "mnasnet-a1", "-o", tmp_path / "a1.graphml")
    assert code == 0 and (tmp_path / "a1.graphml").stat().st_size > 0
