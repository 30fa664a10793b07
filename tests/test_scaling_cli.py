"""`effnas family` through the CLI: output, family.json, and bad input (exit 2, one stderr line)."""

import json
import subprocess
import sys

import pytest

from scaling import load_family
from scaling.coefficients import Coefficients, coefficients_record


def test_phis_table_shows_official_b0_b7(run_cli):
    code, out, err = run_cli("family", "--base", "efficientnet-b0", "--phis", "0,1,2,3,4,5,6,7")
    assert code == 0 and err == ""
    assert "efficientnet-b7" in out and "2^phi" in out and "official/formula" in out


def test_targets_json_and_output_file(run_cli, tmp_path):
    path = tmp_path / "family.json"
    code, out, err = run_cli("family", "--base", "efficientnet-b0", "--targets", "150M,600M,3G", "--json",
                             "-o", path)
    assert code == 0, err
    data = json.loads(out)
    assert data == json.loads(path.read_text())
    assert [m["target_macs"] for m in data["members"]] == [150_000_000, 600_000_000, 3_000_000_000]
    assert all(abs(m["macs"] / m["target_macs"] - 1) <= 0.01 for m in data["members"])
    assert len(load_family(path)) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["family.json"]  # no temp files left


def test_coefficients_from_grid_output(run_cli, tmp_path):
    (tmp_path / "coefficients.json").write_text(json.dumps(coefficients_record(Coefficients(1.35, 1.05, 1.15))))
    for source in (tmp_path, tmp_path / "coefficients.json"):
        code, out, _ = run_cli("family", "--base", "mnasnet-a1", "--phis", "1", "--coefficients-from", source,
                               "--json")
        assert code == 0
        assert json.loads(out)["coefficients"] == {"alpha": 1.35, "beta": 1.05, "gamma": 1.15}


def test_negative_phis_and_allow_flag(run_cli):
    code, out, _ = run_cli("family", "--base", "efficientnet-b0", "--phis=-1,0.5", "--coefficients", "1.5,1.5,1.5",
                           "--allow-any-coefficients", "--json")
    assert code == 0 and [m["phi"] for m in json.loads(out)["members"]] == [-1, 0.5]


@pytest.mark.parametrize("args, fragment", [
    (["--base", "efficientnet-b0", "--targets", "1M"], "smallest member"),
    (["--base", "efficientnet-b0", "--phis", "1", "--coefficients", "1.5,1.5,1.5"], "allow-any-coefficients"),
    (["--base", "efficientnet-b0", "--phis", "1", "--coefficients", "1.2,1.1"], "three numbers"),
    (["--base", "efficientnet-b0", "--phis", "x"], "phi values"),
    (["--base", "efficientnet-b0", "--targets", "lots"], "MACs target"),
    (["--base", "efficientnet-b0", "--phis", "1", "--targets", "1G"], "not allowed with"),
    (["--base", "efficientnet-b0"], "required"),
    (["--base", "nonet", "--phis", "1"], "unknown architecture"),
    (["--base", "efficientnet-b0", "--phis", "1", "-o", "/no/such/dir/f.json"], "does not exist"),
    (["--base", "efficientnet-b0", "--phis", "1", "--coefficients-from", "/no/such.json"], "cannot read"),
    (["--base", "efficientnet-b0", "--phis", "99"], "phi"),
])
def test_bad_input_exit_two_one_line(run_cli, args, fragment):
    code, out, err = run_cli("family", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and fragment in err, err


def test_contract_check_subprocess():
    result = subprocess.run([sys.executable, "-m", "effnas.cli", "family", "--base", "efficientnet-b0",
                             "--targets", "1M"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "2.27M" in result.stderr
