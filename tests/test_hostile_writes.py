"""Issue 13, writes: the one writer, run folders, locks, resume integrity (what exit codes alone don't show)."""

import errno
import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from effnas.lock import GRACE_S, RunLock, holder_gone, process_start
from search_spaces import InputError
from search_spaces.atomic import write_bytes_atomic, write_text_atomic, write_with

SEARCH = ["search", "--target", "400M", "--strategy", "random", "--evaluator", "zero-cost", "--trials", "2",
          "--eval-opt", "resolution=16", "--eval-opt", "batch=8", "--quiet"]
FAMILY_JOB = '[job]\nname = "t"\nout = "{out}"\nrunner = "inline"\n[family]\nbase = "efficientnet-b0"\nphis = [0]\n'


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---------------------------------------------------------------------------------------- the one writer
def test_a_symlink_is_written_through(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_text_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


def test_permission_bits_are_kept_and_new_files_follow_the_umask(tmp_path):
    kept = tmp_path / "kept.txt"
    kept.write_text("old")
    kept.chmod(0o640)
    write_text_atomic(kept, "new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    old = os.umask(0o027)
    try:
        write_bytes_atomic(tmp_path / "new.bin", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.bin").stat().st_mode) == 0o640  # 0o666 minus the umask, not 0o600


def test_a_device_is_refused_and_left_alone(run_cli):
    code, _, err = run_cli("arch", "graph", "efficientnet-b0", "-o", "/dev/full")
    assert code == 2 and "not a regular file" in _one_line(err)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_export_to_a_folder_leaves_no_temp(tmp_path, run_cli):
    folder = tmp_path / "model.pt2"
    folder.mkdir()
    code, _, err = run_cli("arch", "export", "efficientnet-b0", "-o", folder)
    assert code == 2 and "a folder" in _one_line(err)
    assert list(tmp_path.iterdir()) == [folder] and not list(folder.iterdir())


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_is_one_line_and_leaves_no_temp(tmp_path, run_cli, monkeypatch):
    import search_spaces.atomic as atomic

    monkeypatch.setattr(atomic.os, "fsync", _no_space)
    code, _, err = run_cli("arch", "export", "mnasnet-a1", "--resolution", "64", "-o", tmp_path / "m.pt2")
    line = _one_line(err)
    assert code == 1 and "No space left" in line and "m.pt2" in line
    assert list(tmp_path.iterdir()) == []


def test_a_failing_producer_leaves_the_old_file(tmp_path):
    path = tmp_path / "plot.png"
    path.write_bytes(b"old")

    def produce(handle):
        handle.write(b"half")
        raise RuntimeError("renderer died")

    with pytest.raises(RuntimeError):
        write_with(path, produce)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["plot.png"]


def _mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.mark.slow
def test_export_on_a_real_full_disk(tmp_path):
    folder = tmp_path / "small"
    if not _mount_tmpfs(folder, "size=1m"):
        pytest.skip("cannot mount a small tmpfs here")
    try:
        result = subprocess.run([sys.executable, "-m", "effnas.cli", "arch", "export", "mnasnet-a1", "--resolution",
                                 "64", "-o", str(folder / "a1.pt2")], capture_output=True, text=True)
        assert result.returncode == 1 and "No space left" in _one_line(result.stderr)
        assert list(folder.iterdir()) == []
    finally:
        subprocess.run(["umount", str(folder)])


# ---------------------------------------------------------------------------------------- run folders
@pytest.mark.parametrize("extra", [["--eval-opt", "epochs=-1", "--evaluator", "proxy"],
                                   ["--eval-opt", "batch=1"],
                                   ["--runner", "ray", "--ray-address", "127.0.0.1:1"]],
                         ids=["bad proxy option", "bad zero-cost option", "unreachable Ray"])
def test_a_rejected_search_writes_nothing(tmp_path, run_cli, extra):
    out = tmp_path / "run"
    code, _, err = run_cli(*SEARCH, *extra, "--out", out)
    assert code == 2 and _one_line(err)
    assert not out.exists()
    if extra[-1] == "epochs=-1":
        code, _, err = run_cli(*SEARCH, "--out", out)  # the corrected command is not refused
        assert code == 0, err
        assert (out / "best.json").exists() and not (out / ".lock").exists()


def test_a_search_with_corrupt_images_writes_nothing(tmp_path, run_cli):
    from bad_input_cases_writes import _images

    _images(tmp_path / "data")
    out = tmp_path / "run"
    code, _, err = run_cli("search", "--target", "400M", "--strategy", "random", "--evaluator", "proxy", "--data",
                           tmp_path / "data", "--trials", "1", "--quiet", "--out", out)
    assert code == 2 and "cannot decode image" in _one_line(err)
    assert not out.exists()


def test_a_rejected_job_writes_no_state(tmp_path, run_cli):
    out = tmp_path / "nested" / "run"
    job = tmp_path / "job.toml"
    job.write_text(FAMILY_JOB.format(out=out).replace('"inline"', '"inline"\n[search]\ntarget = "400M"\n'
                   'strategy = "random"\nevaluator = "proxy"\ntrials = 1\nevaluator_config = {epochs = -1}\n'))
    code, _, err = run_cli("run", job)
    assert code == 2 and "epochs" in _one_line(err)
    assert not (tmp_path / "nested").exists()


def test_a_rejected_grid_leaves_no_folder(tmp_path, run_cli):
    out = tmp_path / "a" / "b"
    code, _, err = run_cli("grid", "--base", "efficientnet-b0", "--evaluator", "zero-cost", "--step", "7",
                           "--out", out)
    assert code == 2 and _one_line(err)
    assert not (tmp_path / "a").exists()


def test_tilde_in_a_job_is_the_home_folder(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    job = tmp_path / "job.toml"
    job.write_text(FAMILY_JOB.format(out="~/runs/x"))
    code, _, err = run_cli("run", job)
    assert code == 0, err
    assert (tmp_path / "home" / "runs" / "x" / "family.json").exists() and not (tmp_path / "~").exists()


# ---------------------------------------------------------------------------------------- locks
def _lock_file(folder: Path, record: dict | None, age_s: float = 0.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".lock"
    path.write_text("" if record is None else json.dumps(record))
    if age_s:
        then = time.time() - age_s
        os.utime(path, (then, then))
    return path


def _record(pid: int, **extra) -> dict:
    return {"marker": "effnas", "pid": pid, "host": socket.gethostname(), **extra}


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("record, age_s", [
    (None, GRACE_S + 10),  # an empty file, long since
    ({"garbage": True}, GRACE_S + 10),  # a corrupt one
    ("dead", 0),  # its pid is gone
    ("reused", 0),  # its pid lives, with another start time: reused by another process
    ("unrelated", 0),  # a record without start time, its pid alive but not an effnas process
], ids=["empty", "corrupt", "dead pid", "reused pid", "unrelated process"])
def test_a_lock_of_no_live_effnas_run_is_taken_over(tmp_path, record, age_s):
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        if record == "dead":
            record = _record(_dead_pid(), start=1)
        elif record == "reused":
            record = _record(sleeper.pid, start=(process_start(sleeper.pid) or 0) + 1)
        elif record == "unrelated":
            record = _record(sleeper.pid)
        path = _lock_file(tmp_path, record, age_s)
        with RunLock(tmp_path):
            assert json.loads(path.read_text())["pid"] == os.getpid()
        assert not path.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize("record", [None, "self", "other host"], ids=["young empty file", "live run", "other host"])
def test_a_lock_that_may_be_live_is_refused(tmp_path, record):
    if record == "self":
        record = _record(os.getpid(), start=process_start(os.getpid()))
    elif record == "other host":
        record = {**_record(_dead_pid()), "host": "elsewhere.example"}
    path = _lock_file(tmp_path, record)
    with pytest.raises(InputError, match="in use") as caught:
        RunLock(tmp_path).acquire()
    assert str(path) in str(caught.value)
    assert holder_gone(record, 0.0) is False


def test_a_search_waits_for_no_one_but_refuses_a_held_folder(tmp_path, run_cli):
    """A live holder (flock) refuses a search on its folder; once it is SIGKILLed the lock is taken over."""
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from effnas.lock import RunLock; "
                               f"RunLock({str(out)!r}).acquire(); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, err = run_cli(*SEARCH, "--out", out)
        assert code == 2 and "in use" in _one_line(err) and f"pid {holder.pid}" in err
        assert not (out / "config.json").exists()
    finally:
        holder.kill()
        holder.wait()
    code, _, err = run_cli(*SEARCH, "--out", out)
    assert code == 0, err


# ---------------------------------------------------------------------------------------- resume integrity
def test_resume_refuses_a_ledger_with_a_repeated_trial(tmp_path, run_cli):
    out = tmp_path / "run"
    assert run_cli(*SEARCH, "--out", out)[0] == 0
    ledger = out / "trials.jsonl"
    rows = ledger.read_text().splitlines()
    ledger.write_text("\n".join(rows + rows[:1]) + "\n")  # what two drivers on one folder left
    code, _, err = run_cli(*SEARCH, "--trials", "3", "--resume", "--out", out)
    assert code == 2 and "recorded twice" in _one_line(err) and "t00000" in err


def test_a_deleted_best_json_is_rebuilt_on_resume(tmp_path, run_cli):
    out = tmp_path / "run"
    assert run_cli(*SEARCH, "--out", out)[0] == 0
    before = json.loads((out / "best.json").read_text())
    (out / "best.json").unlink()
    code, _, err = run_cli(*SEARCH, "--resume", "--out", out)
    assert code == 0, err
    assert json.loads((out / "best.json").read_text()) == before


def test_a_deleted_search_best_json_is_rebuilt_by_run(tmp_path, run_cli):
    out = tmp_path / "run"
    job = tmp_path / "job.toml"
    job.write_text(FAMILY_JOB.format(out=out).replace("[family]", '[search]\ntarget = "400M"\nstrategy = "random"\n'
                                                      'evaluator = "zero-cost"\ntrials = 2\n'
                                                      'evaluator_config = {resolution = 16, batch = 8}\n[family]')
                   .replace('base = "efficientnet-b0"\n', ""))
    assert run_cli("run", job)[0] == 0
    before = json.loads((out / "search" / "best.json").read_text())
    trials = (out / "search" / "trials.jsonl").read_text()
    (out / "search" / "best.json").unlink()
    code, _, err = run_cli("run", job)
    assert code == 0, err
    assert json.loads((out / "search" / "best.json").read_text()) == before
    assert (out / "search" / "trials.jsonl").read_text() == trials  # rebuilt from the ledger, nothing re-run


def test_a_tampered_strategy_state_is_one_line_without_torch_advice(tmp_path, run_cli):
    import torch

    out = tmp_path / "run"
    assert run_cli(*SEARCH, "--strategy", "evolution", "--out", out)[0] == 0
    torch.save({"strategy": Path("/etc/passwd"), "keys": []}, out / "strategy.pt")
    code, _, err = run_cli(*SEARCH, "--strategy", "evolution", "--trials", "3", "--resume", "--out", out)
    line = _one_line(err)
    assert code == 2 and "not a valid strategy state" in line and "weights_only" not in line
    (out / "strategy.pt").write_bytes(b"\x00garbage")
    code, _, err = run_cli(*SEARCH, "--strategy", "evolution", "--trials", "3", "--resume", "--out", out)
    assert code == 2 and "not a valid strategy state" in _one_line(err)
    (out / "strategy.pt").unlink()  # what the message advises: the strategy is rebuilt from the ledger
    code, _, err = run_cli(*SEARCH, "--strategy", "evolution", "--trials", "3", "--resume", "--out", out)
    assert code == 0, err
    assert len((out / "trials.jsonl").read_text().splitlines()) == 3
