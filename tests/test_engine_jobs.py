"""JOB.toml parsing, the run-folder lock and report plots."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from effnas.jobs import load_job, parse_job
from effnas.lock import RunLock
from effnas.plots import pareto_front
from search_spaces import InputError

JOBS = Path(__file__).resolve().parents[1] / "jobs"


@pytest.mark.parametrize("path", sorted(JOBS.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_jobs_parse(path):
    job = load_job(path)
    assert job.stages() and job.out.name


@pytest.mark.parametrize("text, message", [
    ("[job]\nname='x'\n[family]\nbase='efficientnet-b0'\nphis=[0,1]\ncolour=1", "unknown key 'colour'"),
    ("[job]\n[family]\nbase='efficientnet-b0'\nphis='0,1'", "phis must be list"),
    ("[job]\n[family]\nbase='efficientnet-b0'", "exactly one of phis"),
    ("[job]\n[family]\nbase='efficientnet-b0'\ntargets=['lots']", "target"),
    ("[job]\n[search]\ntrials=0", "trials must be in 1..1000000"),
    ("[job]\n[grid]\nevaluator='proxy'", "needs base"),
    ("[job]\nrunner='slurm'\n[family]\nbase='b0'\nphis=[0]", "runner"),
    ("[job]\n[detectors]\nmembers='all'", "needs a [family]"),
    ("[jobb]\n", "unknown section"),
    ("[job]\n", "no stage"),
    ("[job\n", "not valid TOML"),
])
def test_bad_jobs_are_refused_with_the_reason(text, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_job(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_job_parser_fuzz_raises_only_input_error(text):
    try:
        parse_job(text)
    except InputError:
        pass


def test_missing_job_file():
    with pytest.raises(InputError, match="does not exist"):
        load_job("/nonexistent/job.toml")


def test_lock_refuses_a_second_holder_and_takes_over_a_stale_one(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(InputError, match="in use"):
            RunLock(tmp_path).acquire()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / ".lock").write_text(f'{{"pid": {int(dead.stdout)}, "host": "{os.uname().nodename}"}}')
    with RunLock(tmp_path) as lock:
        assert lock.held


def test_pareto_front():
    points = [(1, 0.5), (2, 0.4), (2, 0.7), (3, 0.6), (4, 0.9)]
    assert pareto_front(points) == [(1, 0.5), (2, 0.7), (4, 0.9)]
