"""One Ray per job, and no Ray process outliving its driver: `session()` keeps Ray across a job's
stages; SIGTERM and Ctrl+C shut it down; a SIGKILLed driver's embedded Ray is reaped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from nas.runners import ray_runner


def test_session_keeps_ray_until_its_end(monkeypatch):
    downs: list[str] = []
    monkeypatch.setattr(ray_runner, "shutdown", lambda: downs.append("down"))
    ray_runner.release(False)  # a run that joined a Ray it did not start leaves it alone
    assert downs == []
    ray_runner.release(True)  # no session: the run's own Ray stops with it
    assert downs == ["down"]
    downs.clear()
    with ray_runner.session():
        ray_runner.release(True)  # the first stage started Ray: kept for the next one
        with ray_runner.session():  # (nested blocks share it)
            ray_runner.release(False)
        assert downs == []
    assert downs == ["down"]
    with pytest.raises(RuntimeError), ray_runner.session():
        ray_runner.release(True)
        raise RuntimeError("a stage failed")
    assert downs == ["down", "down"]
    with ray_runner.session():  # a job that ran nothing on Ray starts and stops nothing
        pass
    assert downs == ["down", "down"]


def test_reaper_kills_what_the_dead_driver_left(tmp_path):
    """The reaper on a stand-in 'Ray' (a sleeping process and its child): stdin closed without
    'stop' kills both; 'stop' kills nothing."""
    sleeper = "import time; time.sleep(60)"
    code = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {sleeper!r}]); time.sleep(60)"
    for message, expect_alive in (("", False), ("stop\n", True)):
        parent = subprocess.Popen([sys.executable, "-c", code])
        tree = [psutil.Process(parent.pid)]
        deadline = time.monotonic() + 20
        while not tree[0].children() and time.monotonic() < deadline:
            time.sleep(0.05)
        tree += tree[0].children()
        try:
            reaper = subprocess.Popen([sys.executable, "-m", "nas.runners.reaper", str(parent.pid)],
                                      stdin=subprocess.PIPE, text=True)
            time.sleep(0.5)
            reaper.communicate(message, timeout=20)
            time.sleep(0.2)
            assert len(_living(tree)) == (2 if expect_alive else 0)
        finally:
            for proc in tree:
                try:
                    proc.kill()
                except psutil.Error:
                    pass
            parent.wait()


def _search(tmp_path) -> subprocess.Popen:
    out = tmp_path / "run"
    command = [sys.executable, "-m", "effnas.cli", "search", "--target", "400M", "--strategy", "random",
               "--evaluator", "zero-cost", "--eval-opt", "resolution=16", "--eval-opt", "batch=8", "--trials", "200",
               "--runner", "ray", "--max-concurrent", "2", "--quiet", "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "trials.jsonl").exists() and (out / "trials.jsonl").stat().st_size:
            return proc  # Ray is up and trials are running
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"the search did not start: {proc.communicate()[1][-2000:]}")


def _living(processes: list[psutil.Process]) -> list[str]:
    alive = []
    for proc in processes:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{proc.pid} {proc.name()}")
        except psutil.Error:
            continue
    return alive


def _gone_within(processes: list[psutil.Process], seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while _living(processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    return _living(processes)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGINT"])
def test_no_ray_process_outlives_the_driver(tmp_path, how):
    """`effnas search --runner ray` (embedded Ray) killed mid-run: every process it started is gone
    within 10 s; SIGTERM and SIGINT end it with one line and 128 + the signal."""
    proc = _search(tmp_path)
    tree = psutil.Process(proc.pid).children(recursive=True)
    assert len(tree) >= 4, [p.name() for p in tree]  # gcs_server, raylet, agents, workers, reaper
    try:
        os.kill(proc.pid, getattr(signal, how))
        _, err = proc.communicate(timeout=60)
        left = _gone_within(tree, 10)
        assert not left, left
        if how != "SIGKILL":
            assert proc.returncode == 128 + getattr(signal, how)
            assert err.strip().splitlines()[-1] == f"effnas: {'terminated' if how == 'SIGTERM' else 'interrupted'}"
    finally:
        for leftover in tree:
            try:
                leftover.kill()
            except psutil.Error:
                pass


RAY_JOB = """
[job]
name = "r"
out = "{out}"
runner = "ray"
max_concurrent = 2
[search]
target = "400M"
strategy = "random"
evaluator = "zero-cost"
trials = 2
evaluator_config = {{resolution = 16, batch = 8}}
[grid]
evaluator = "zero-cost"
step = 0.3
levels = [2]
evaluator_config = {{resolution = 16, batch = 8}}
[family]
phis = [0]
"""


@pytest.mark.slow
def test_a_job_starts_ray_once_for_all_its_stages(tmp_path, monkeypatch):
    """search, the reference evaluation and the grid all run on one embedded Ray, stopped at the end."""
    import ray

    from effnas.jobs import load_job
    from effnas.pipeline import Pipeline

    starts: list[str] = []
    init = ray.init

    def counting_init(*args, **kwargs):
        starts.append(kwargs.get("address", "?"))
        return init(*args, **kwargs)

    monkeypatch.setattr(ray, "init", counting_init)
    job = tmp_path / "job.toml"
    job.write_text(RAY_JOB.format(out=tmp_path / "run"))
    summary = Pipeline(load_job(job)).run()
    assert set(summary["stages"]) == {"search", "grid", "family"}
    assert starts == ["local"] and not ray.is_initialized()
    rows = [line for line in (tmp_path / "run" / "grid" / "trials.jsonl").read_text().splitlines() if line]
    assert rows and (tmp_path / "run" / "search" / "references.json").exists()
