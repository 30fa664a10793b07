"""`effnas evaluate`: one arch, one evaluator — JSON keys, best.json input, zero-cost, bad input exits 2."""

import json
import math

import numpy as np
import pytest

from effnas.cli import main

TINY_ARCH = ["r1_k3_s22_e1_i32_o16_se0.25", "r1_k3_s22_e6_i16_o24_se0.25"]
TINY = ["--config", "resolution=16", "--config", "subset=100", "--config", "epochs=1", "--config", "val_size=50",
        "--config", "dataset=digits", "--config", "batch=50"]
JSON_KEYS = {"metric", "accuracy", "train_loss", "seconds", "proxy", "evaluator", "config", "arch", "macs", "params"}


def run(capsys, *argv):
    code = main(["evaluate", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_proxy_json(capsys):
    code, out, err = run(capsys, *TINY_ARCH, *TINY, "--seed", "3", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert set(report) >= JSON_KEYS
    assert report["evaluator"] == "proxy"
    # b0-local's score: exp(-mean training loss) (TSE); the held-out accuracy is reported beside it
    assert report["metric"] == pytest.approx(math.exp(-report["mean_train_loss"])) and 0.0 <= report["accuracy"] <= 1
    assert report["train_loss"] > 0 and report["seconds"] > 0 and "digits 16px" in report["proxy"]
    assert report["config"]["seed"] == 3 and report["config"]["epochs"] == 1
    assert report["arch"]["blocks"] == TINY_ARCH and report["macs"] > 0 and report["params"] > 0


def test_human_table(capsys):
    code, out, err = run(capsys, *TINY_ARCH, *TINY)
    assert code == 0, err
    assert "MACs" in out and "train_loss" in out and "custom" in out
    assert any(line.startswith("proxy: digits 16px") for line in out.splitlines())
    assert err.splitlines()[-1].startswith("[2/2] proxy training steps | ETA ")  # progress on stderr
    code, _, err = run(capsys, *TINY_ARCH, *TINY, "--quiet")
    assert code == 0 and err == ""


def _fake_best(tmp_path):
    """A best.json exactly as nas.search writes it, for a member of the MnasNet space."""
    from nas.search import best_record
    from search_spaces import MnasNetSpace

    space = MnasNetSpace()
    arch = space.decode(space.sample_tokens(np.random.default_rng(0)), name="sample-0-0")
    cost = arch.cost()
    row = {"trial": 7, "reward": 0.5, "metric": 0.5, "macs": cost.macs, "params": cost.params, "arch": arch.to_dict()}
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "best.json").write_text(json.dumps(best_record(row, space)))
    return folder, arch


def test_best_json_from_a_run(tmp_path, capsys):
    folder, arch = _fake_best(tmp_path)
    code, out, err = run(capsys, folder / "best.json", "--evaluator", "zero-cost", "--config", "resolution=16",
                         "--config", "batch=8", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["arch"] == arch.to_dict() and report["macs"] == arch.cost().macs
    code, out, err = run(capsys, folder, "--evaluator", "zero-cost", "--config", "resolution=16",
                         "--config", "batch=8", "--json")  # the run folder itself
    assert code == 0, err
    assert json.loads(out)["arch"] == arch.to_dict()


def test_zero_cost(capsys):
    code, out, err = run(capsys, *TINY_ARCH, "--evaluator", "zero-cost", "--config", "resolution=16",
                         "--config", "batch=8", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert set(report) >= JSON_KEYS
    assert report["evaluator"] == "zero-cost" and report["accuracy"] is None and report["train_loss"] is None
    assert isinstance(report["metric"], float) and "NASWOT" in report["proxy"]


def test_preset_and_reference_configs_checked(capsys):
    """--preset/--reference configs are taken as given, with --config overriding single keys (checked, not run)."""
    code, _, err = run(capsys, "efficientnet-b0", "--preset", "b0-local", "--config", "optimizer=nope")
    assert code == 2 and "optimizer" in err
    code, _, err = run(capsys, "efficientnet-b0", "--reference", "--config", "epochs=0")
    assert code == 2 and "epochs" in err
    code, _, err = run(capsys, "efficientnet-b0", "--preset", "b0-paper")
    assert code == 2 and "dataset=PATH" in err


@pytest.mark.parametrize("argv, message", [
    (["nosuch-net"], "unknown architecture"),
    (["efficientnet-b0", "--seed", "-1"], "--seed"),
    (["efficientnet-b0", "--config", "epochs=-1"], "epochs"),
    (["efficientnet-b0", "--config", "bogus=1"], "bogus"),
    (["efficientnet-b0", "--config", "nokeyvalue"], "--config"),
    (["efficientnet-b0", "--preset", "nosuch"], "unknown preset"),
    (["efficientnet-b0", "--preset", "b0-local", "--reference"], "not allowed"),
    (["efficientnet-b0", "--preset", "b0-local", "--evaluator", "proxy"], "not allowed"),
    (["efficientnet-b0", "--evaluator", "nosuch"], "unknown evaluator"),
    (["efficientnet-b0", "--seed", "x"], "invalid int"),
])
def test_bad_input_exit_2_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"trial": 1, "arch": {"blocks": "oops"}}), "'arch' entry"),
])
def test_bad_best_json_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "best.json"
    path.write_text(content)
    code, _, err = run(capsys, path)
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err


def test_run_folder_without_best_json(tmp_path, capsys):
    code, _, err = run(capsys, tmp_path)
    assert code == 2 and "best.json" in err and len(err.strip().splitlines()) == 1
