"""`effnas run`: stages, resume, --from, lock, and the damage: SIGKILL, read-only and full folders."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

FAMILY_JOB = """
[job]
name = "t"
out = "{out}"
runner = "inline"
[family]
base = "efficientnet-b0"
phis = [0, 0.5]
[detectors]
members = [0]
"""

SEARCH_JOB = """
[job]
name = "s"
out = "{out}"
runner = "inline"
seed = 3
[search]
target = "400M"
strategy = "random"
evaluator = "zero-cost"
trials = {trials}
[family]
phis = [0]
"""


def _job(tmp_path, template, **values):
    path = tmp_path / "job.toml"
    path.write_text(template.format(**values))
    return path


def _effnas(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "effnas.cli", *map(str, args)], capture_output=True, text=True,
                          **kwargs)


def test_family_and_detectors_job_resumes_and_redoes(tmp_path, run_cli):
    out = tmp_path / "run"
    job = _job(tmp_path, FAMILY_JOB, out=out)
    code, stdout, err = run_cli("run", job)
    assert code == 0, err
    family = json.loads((out / "family.json").read_text())
    assert family["schema"] == "effnas.family/1" and len(family["members"]) == 2
    detectors = json.loads((out / "detectors.json").read_text())["detectors"]
    assert detectors[0]["fpn_filters"] == 64 and detectors[0]["params"] == pytest.approx(3.9e6, rel=0.03)  # D0
    report = (out / "report.md").read_text()
    assert "## 3. Family" in report and (out / "family.png").stat().st_size > 1000
    assert "report:" in stdout

    code, _, err = run_cli("run", job)
    assert code == 0 and "already finished" in err
    before = (out / "family.json").stat().st_mtime_ns
    code, _, err = run_cli("run", job, "--from", "family")
    assert code == 0 and (out / "family.json").stat().st_mtime_ns != before


def test_a_different_job_in_the_same_folder_is_refused(tmp_path, run_cli):
    out = tmp_path / "run"
    family_only = FAMILY_JOB.split("[detectors]")[0]
    assert run_cli("run", _job(tmp_path, family_only, out=out))[0] == 0
    other = tmp_path / "other.toml"
    other.write_text(family_only.format(out=out).replace("phis = [0, 0.5]", "phis = [0, 1]"))
    code, _, err = run_cli("run", other)
    assert code == 2 and "different job" in err


def test_a_second_run_on_a_locked_folder_is_refused(tmp_path, run_cli):
    out = tmp_path / "run"
    out.mkdir()
    from effnas.lock import process_start

    (out / ".lock").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                           "start": process_start(os.getpid())}))  # a live run: this process
    code, _, err = run_cli("run", _job(tmp_path, FAMILY_JOB, out=out))
    assert code == 2 and "in use" in err and len(err.strip().splitlines()) == 1


def test_driver_killed_mid_search_resumes_without_losing_or_repeating(tmp_path):
    out = tmp_path / "run"
    job = _job(tmp_path, SEARCH_JOB, out=out, trials=6)
    ledger = out / "search" / "trials.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "effnas.cli", "run", str(job), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if ledger.exists() and len(ledger.read_text().splitlines()) >= 2:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = [json.loads(line)["trial"] for line in ledger.read_text().splitlines() if line.strip()]
    assert 2 <= len(finished) < 6
    result = _effnas("run", job, "--quiet", timeout=600)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in ledger.read_text().splitlines() if line.strip()]
    trials = [r["trial"] for r in rows]
    assert len(trials) == 6 and len(set(trials)) == 6 and trials[: len(finished)] == finished
    assert (out / "best.json").exists() and (out / "family.json").exists()


STAGED_JOB = """
[job]
name = "k"
out = "{out}"
runner = "inline"
[grid]
base = "mnasnet-a1"
evaluator = "zero-cost"
step = 0.15
levels = [2]
evaluator_config = {{resolution = 16, batch = 8}}
[family]
phis = [0, 1, 2, 3]
[detectors]
members = "all"
"""


def _grid_started(out: Path) -> bool:
    ledger = out / "grid" / "trials.jsonl"
    return ledger.exists() and len(ledger.read_text().splitlines()) >= 3


def _detectors_started(out: Path) -> bool:
    try:
        return "family" in json.loads((out / "state.json").read_text())["done"]
    except (OSError, ValueError, KeyError):
        return False


def _outputs(out: Path) -> dict:
    """What the run computed, without timings."""
    grid = json.loads((out / "grid" / "grid.json").read_text())
    return {"coefficients": json.loads((out / "coefficients.json").read_text()),
            "grid": {row["key"]: (row["metric"], row["macs"]) for row in grid["candidates"]},
            "family": json.loads((out / "family.json").read_text()),
            "detectors": json.loads((out / "detectors.json").read_text())}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("staged")
    job = _job(folder, STAGED_JOB, out=folder / "run")
    result = _effnas("run", job, "--quiet", timeout=600)
    assert result.returncode == 0, result.stderr
    return _outputs(folder / "run")


@pytest.mark.slow
@pytest.mark.parametrize("started", [_grid_started, _detectors_started], ids=["grid", "detectors"])
def test_driver_killed_mid_stage_resumes_to_the_same_outputs(tmp_path, uninterrupted, started):
    out = tmp_path / "run"
    job = _job(tmp_path, STAGED_JOB, out=out)
    proc = subprocess.Popen([sys.executable, "-m", "effnas.cli", "run", str(job), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not started(out) and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert started(out) and not (out / "detectors.json").exists(), "killed too late"
    grid_rows = (out / "grid" / "trials.jsonl").read_text().splitlines()
    result = _effnas("run", job, "--quiet", timeout=600)
    assert result.returncode == 0, result.stderr
    assert _outputs(out) == uninterrupted
    rows = (out / "grid" / "trials.jsonl").read_text().splitlines()
    keys = [json.loads(row)["trial"] for row in rows]
    assert len(keys) == len(set(keys)) and rows[: len(grid_rows)] == grid_rows  # finished trials kept, none redone


def _mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_read_only_output_folder_gives_a_clear_error(tmp_path):
    folder = tmp_path / "ro"
    if not _mount_tmpfs(folder, "ro,size=1m"):
        pytest.skip("cannot mount a read-only tmpfs here")
    try:
        result = _effnas("run", _job(tmp_path, FAMILY_JOB, out=folder / "run"))
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "Read-only" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    finally:
        subprocess.run(["umount", str(folder)])


def test_full_output_folder_leaves_nothing_half_written(tmp_path):
    folder = tmp_path / "full"
    if not _mount_tmpfs(folder, "size=256k"):
        pytest.skip("cannot mount a small tmpfs here")
    try:
        out = folder / "run"
        out.mkdir()
        (folder / "ballast").write_bytes(b"\0" * (256 * 1024 - 20 * 1024))
        result = _effnas("run", _job(tmp_path, FAMILY_JOB, out=out))
        assert result.returncode == 1 and "No space left" in result.stderr and "Traceback" not in result.stderr
        assert not (out / "family.json").exists() or json.loads((out / "family.json").read_text())
        assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    finally:
        subprocess.run(["umount", str(folder)])
