"""Run folder, ledger and resume: no finished trial lost or repeated, strategy state restored."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import search_helpers

from nas.batch import evaluate_batch
from nas.ledger import Ledger
from nas.search import resolve_config, run_search
from search_spaces import InputError, MnasNetSpace

HERE = Path(__file__).parent


def config(trials, strategy="evolution", **extra):
    extra.setdefault("strategy_options", {"population": 4, "sample": 2})
    return resolve_config(
        None, target=400_000_000, strategy=strategy, evaluator=search_helpers.install(), trials=trials, seed=3, **extra
    )


def keys(out):
    return [row["trial"] for row in Ledger(out).read()]


def test_run_writes_folder_and_resume_extends(tmp_path):
    out = tmp_path / "run"
    summary = run_search(config(5), out)
    assert summary["done"] == 5
    assert {"config.json", "trials.jsonl", "best.json", "strategy.pt"} <= set(os.listdir(out))
    rows = Ledger(out).read()
    for row in rows:
        assert {"trial", "arch", "params", "macs", "metric", "reward", "seconds", "worker"} <= set(row)
    best = json.loads((out / "best.json").read_text())
    assert best["reward"] == max(r["reward"] for r in rows)
    # same run without --resume: refused, nothing changed
    before = (out / "trials.jsonl").read_bytes()
    with pytest.raises(InputError, match="--resume"):
        run_search(config(5), out)
    with pytest.raises(InputError, match="different run"):
        run_search(config(8, strategy="random", strategy_options={}), out, resume=True)
    assert (out / "trials.jsonl").read_bytes() == before
    run_search(config(8), out, resume=True)
    assert keys(out) == [f"t{i:05d}" for i in range(8)]


def test_resume_reproduces_uninterrupted_run(tmp_path):
    """Inline run of 8 == run of 4 then resume to 8 (state: population, RNG, counters)."""
    run_search(config(8), tmp_path / "a")
    run_search(config(4), tmp_path / "b")
    run_search(config(8), tmp_path / "b", resume=True)
    arch = [r["arch"]["blocks"] for r in Ledger(tmp_path / "a").read()]
    assert [r["arch"]["blocks"] for r in Ledger(tmp_path / "b").read()] == arch


def test_truncated_last_line_dropped_and_rerun(tmp_path):
    out = tmp_path / "run"
    run_search(config(4), out)
    data = (out / "trials.jsonl").read_bytes()
    (out / "trials.jsonl").write_bytes(data[: len(data) - 40])  # the 4th row is cut mid-line
    assert len(Ledger(out).read(repair=False)) == 3
    run_search(config(4), out, resume=True)
    ks = keys(out)
    assert len(ks) == 4 and len(set(ks)) == 4 and ks[:3] == ["t00000", "t00001", "t00002"]


def test_corrupt_middle_line_refused(tmp_path):
    out = tmp_path / "run"
    run_search(config(3), out)
    lines = (out / "trials.jsonl").read_text().splitlines(keepends=True)
    lines[1] = "{garbage\n"
    (out / "trials.jsonl").write_text("".join(lines))
    with pytest.raises(InputError, match="line 2"):
        run_search(config(5), out, resume=True)


def test_sigkilled_driver_resumes_without_loss_or_repeat(tmp_path):
    out = tmp_path / "run"
    code = (
        "import sys, search_helpers; search_helpers.install(); from effnas.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    args = [
        "search",
        "--target",
        "400M",
        "--strategy",
        "evolution",
        "--strategy-opt",
        "population=4",
        "--strategy-opt",
        "sample=2",
        "--evaluator",
        "test-cheap",
        "--eval-opt",
        "sleep=0.2",
        "--trials",
        "8",
        "--seed",
        "5",
        "--quiet",
        "--out",
        str(out),
    ]
    env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and proc.poll() is None
        and len(keys(out) if (out / "trials.jsonl").exists() else []) < 3
    ):
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = Ledger(out).read()
    assert 3 <= len(before) < 8
    done = subprocess.run([sys.executable, "-c", code, *args, "--resume"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    after = Ledger(out).read()
    assert len(after) == 8 and len({r["trial"] for r in after}) == 8
    assert after[: len(before)] == before  # finished trials kept as they were


def test_evaluate_batch_resumes(tmp_path):
    name = search_helpers.install()
    space = MnasNetSpace()
    import numpy as np

    candidates = [(f"c{i}", space.sample(np.random.default_rng(i))) for i in range(3)]
    rows = evaluate_batch(candidates[:2], name, {}, tmp_path)
    assert [r["trial"] for r in rows] == ["c0", "c1"]
    rows2 = evaluate_batch(candidates, name, {}, tmp_path)
    assert rows2[:2] == rows and rows2[2]["trial"] == "c2"
    assert len(Ledger(tmp_path).read()) == 3  # c0, c1 not re-evaluated
    for row in rows2:
        assert {"trial", "arch", "params", "macs", "metric", "seconds", "worker"} <= set(row)
    with pytest.raises(InputError):
        evaluate_batch(candidates, "nope", {}, tmp_path)
    with pytest.raises(InputError):
        evaluate_batch([("a", candidates[0][1]), ("a", candidates[1][1])], name, {}, tmp_path)
