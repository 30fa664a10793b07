"""`effnas search`: bad input exits 2 with one line and writes nothing; a real zero-cost run."""

import json
import os

import pytest
import search_helpers

from effnas.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def one_class(tmp_path):
    from PIL import Image

    folder = tmp_path / "data" / "cat"
    folder.mkdir(parents=True)
    for i in range(3):
        Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(folder / f"{i}.png")
    return tmp_path / "data"


BAD = [
    (["--strategy", "nope", "--trials", "1"], "unknown strategy"),
    (["--target", "400M", "--evaluator", "nope", "--trials", "1"], "unknown evaluator"),
    (["--target", "0", "--strategy", "random", "--trials", "1"], "positive"),
    (["--target=-5M", "--strategy", "random", "--trials", "1"], "size must be"),
    (["--target", "0", "--objective", "latency", "--strategy", "random", "--trials", "1"], "positive"),
    (["--target", "400M", "--strategy", "random", "--trials", "0"], "trials"),
    (["--target", "400M", "--strategy", "random", "--trials", "1", "--data", "/no/such/dir"], "does not exist"),
    (["--preset", "b0-paper"], "--data"),
    (["--preset", "nope", "--target", "400M"], "unknown preset"),
    (["--target", "400M", "--runner", "nope", "--trials", "1"], "unknown runner"),
    (["--target", "400M", "--reward", "user", "--alpha", "-0.1", "--trials", "1"], "beta"),
]


@pytest.mark.parametrize("argv, message", BAD)
def test_bad_input_exit_2_nothing_written(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    code, _, err = run(capsys, "search", *argv, "--out", str(out))
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_one_class_data_refused(tmp_path, capsys, one_class):
    out = tmp_path / "out"
    code, _, err = run(capsys, "search", "--target", "400M", "--evaluator", "proxy", "--data", str(one_class),
                       "--trials", "1", "--out", str(out))
    assert code == 2 and "1 class" in err and not out.exists()


def test_foreign_out_without_resume_refused(tmp_path, capsys):
    name = search_helpers.install()
    out = tmp_path / "out"
    base = ["search", "--target", "400M", "--strategy", "random", "--evaluator", name, "--quiet", "--out", str(out)]
    assert run(capsys, *base, "--trials", "2")[0] == 0
    before = {p: (out / p).read_bytes() for p in os.listdir(out)}
    code, _, err = run(capsys, *base, "--trials", "2", "--seed", "9")
    assert code == 2 and "--resume" in err
    code, _, err = run(capsys, *base, "--trials", "2", "--seed", "9", "--resume")
    assert code == 2 and "different run" in err and "seed" in err
    assert {p: (out / p).read_bytes() for p in os.listdir(out)} == before
    # --resume with only --out continues the stored run
    code, stdout, _ = run(capsys, "search", "--resume", "--trials", "3", "--json", "--quiet", "--out", str(out))
    assert code == 0 and json.loads(stdout)["done"] == 3


def test_zero_cost_contract_run(tmp_path, capsys):
    """The contract check's command, on the real zero-cost evaluator (tiny batch/resolution)."""
    out = tmp_path / "run"
    code, stdout, err = run(capsys, "search", "--target", "400M", "--strategy", "random", "--evaluator",
                            "zero-cost", "--eval-opt", "resolution=16", "--eval-opt", "batch=8", "--trials", "2",
                            "--runner", "inline", "--seed", "1", "--out", str(out))
    assert code == 0, err
    assert "best reward" in err and "ETA" in err and "[2/2]" in err
    assert "reward" in stdout and "blocks" in stdout
    rows = [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(r["evaluator"] == "zero-cost" for r in rows)
    assert json.loads((out / "config.json").read_text())["target"] == 400_000_000
    assert (out / "best.json").exists()


def test_presets_resolve_and_explicit_flags_override(tmp_path):
    from PIL import Image

    from nas.search import resolve_config

    for cls in ("cat", "dog"):
        (tmp_path / "imagenet" / cls).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (8, 8), (i * 50, 0, 0)).save(tmp_path / "imagenet" / cls / f"{i}.png")
    paper = resolve_config("b0-paper", data=str(tmp_path / "imagenet"))
    assert (paper["target"], paper["reward"], paper["alpha"], paper["strategy"], paper["trials"]) == (
        400_000_000, "soft", -0.07, "ppo", 8000)
    assert paper["evaluator"] == "proxy" and paper["evaluator_config"]["epochs"] == 5
    assert paper["evaluator_config"]["resolution"] == 224
    assert paper["evaluator_config"]["dataset"] == str(tmp_path / "imagenet")
    local = resolve_config("b0-local", trials=7, strategy="evolution")
    got = (local["target"], local["reward"], local["trials"], local["strategy"])
    assert got == (400_000_000, "soft", 7, "evolution")
    assert local["strategy_options"] == {} and local["evaluator_config"]["dataset"] == "mnist-cluttered"
    assert local["evaluator_config"]["classifier_init"] == "zero" and local["evaluator_config"]["zero_init_residual"]
