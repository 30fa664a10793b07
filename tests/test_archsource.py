"""Every command that takes an architecture reads a search run's best.json or run folder the same way."""

import json

from effnas.archsource import resolve_arch
from effnas.cli import main
from search_spaces import load_arch


def run_folder(tmp_path):
    b0 = load_arch("efficientnet-b0")
    folder = tmp_path / "run"
    folder.mkdir()
    record = {"trial": "t00007", "reward": float("nan"), "metric": 0.9, "macs": b0.cost().macs, "arch": b0.to_dict()}
    (folder / "best.json").write_text(json.dumps(record))
    return folder, b0


def test_run_folder_best_json_and_plain_arch_file_resolve_alike(tmp_path):
    folder, b0 = run_folder(tmp_path)
    (tmp_path / "b0.json").write_text(json.dumps(b0.to_dict()))
    for source in (str(folder), str(folder / "best.json"), str(tmp_path / "b0.json"), "efficientnet-b0"):
        assert resolve_arch(source).to_dict() == b0.to_dict()


def test_arch_show_and_family_take_a_run_folder(tmp_path, capsys):
    folder, b0 = run_folder(tmp_path)
    assert main(["arch", "show", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["macs"] == b0.cost().macs
    assert main(["family", "--base", str(folder / "best.json"), "--phis", "0,1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["members"][0]["macs"] == b0.cost().macs


def test_a_folder_without_best_json_is_refused(tmp_path, capsys):
    assert main(["arch", "show", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read" in err[0] and "best.json" in err[0]
