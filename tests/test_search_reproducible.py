"""Reproducible seeded searches (nas.schedules): a synchronous search writes the same trials.jsonl
whatever order its results arrive in — inline, on Ray with 1 or 2 workers, and across a kill and
resume — and the evaluators it relies on are deterministic for a seed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
import search_helpers
import torch
from search_helpers import content

import nas.search
from nas.ledger import HELD, STATE, Ledger
from nas.runners.trial import evaluate_trial
from nas.search import resolve_config, run_search
from search_spaces import InputError, load_arch

TINY = {"resolution": 16, "batch": 8}  # zero-cost NASWOT on 8 digits at 16 px: ~0.1-0.4 s a trial


def config(strategy: str = "ppo", trials: int = 10, evaluator: str = "cheap", **extra):
    """A seeded search config; evaluator "cheap" (in-process tests: a deterministic function of the
    architecture, milliseconds) or "zero-cost" (subprocesses and Ray workers)."""
    options = {"ppo": {"batch": 3}, "evolution": {"population": 4, "sample": 2}, "random": {}}[strategy]
    extra.setdefault("strategy_options", options)
    if evaluator == "cheap":
        evaluator, extra["evaluator_config"] = search_helpers.install(), {}
    else:
        extra["evaluator_config"] = TINY
    return resolve_config(None, target=400_000_000, strategy=strategy, evaluator=evaluator, trials=trials, seed=7,
                          **extra)




class ShuffledRunner:
    """A stand-in for Ray: up to `width` trials in flight, finishing in a seeded random order;
    `kill_after` results, it raises as a killed driver would stop."""

    def __init__(self, seed: int, width: int, kill_after: int | None = None) -> None:
        self.rng, self.width, self.kill_after, self.results = random.Random(seed), width, kill_after, 0

    def __call__(self, runner, source, on_result, evaluator, evaluator_config, **options):
        flight: list = []
        while True:
            while len(flight) < self.width and (item := source()) is not None:
                flight.append(item)
            if not flight:
                return []
            key, arch = flight.pop(self.rng.randrange(len(flight)))
            if self.kill_after is not None and self.results >= self.kill_after:
                raise KeyboardInterrupt
            self.results += 1
            on_result(evaluate_trial(key, arch.to_dict(), evaluator, evaluator_config, threads=1))


@pytest.mark.parametrize("strategy", ["ppo", "evolution", "random"])
def test_synchronous_ledger_does_not_depend_on_result_order(tmp_path, monkeypatch, strategy):
    run_search(config(strategy, trials=8), tmp_path / "inline")
    expected = content(tmp_path / "inline")
    assert len(expected) == 8
    for seed, width in ((0, 2), (1, 5)):
        monkeypatch.setattr(nas.search, "run", ShuffledRunner(seed, width))
        run_search(config(strategy, trials=8), tmp_path / f"shuffled-{seed}")
        assert content(tmp_path / f"shuffled-{seed}") == expected
        assert not (tmp_path / f"shuffled-{seed}" / HELD).exists()


def test_asynchronous_ledger_depends_on_result_order(tmp_path, monkeypatch):
    """Why the synchronous schedule exists: PPO learning from results in arrival order."""
    ledgers = []
    for seed in range(3):
        monkeypatch.setattr(nas.search, "run", ShuffledRunner(seed, 3))
        run_search(config("ppo", synchronous=False), tmp_path / f"async-{seed}")
        ledgers.append([row["arch"] for row in sorted(content(tmp_path / f"async-{seed}"), key=lambda r: r["trial"])])
    assert len({repr(ledger) for ledger in ledgers}) > 1


def test_generation_sizes(tmp_path, monkeypatch):
    """B defaults to the strategy's batch (PPO: batch); --generation overrides it. No proposal of a
    generation is made before the previous generation was observed whole."""
    seen: list[tuple[int, int]] = []  # (proposals so far, observations so far) at each proposal
    from nas.strategies.ppo import PPOController

    propose = PPOController.propose

    def spy(self):
        seen.append((self.next_id, self.observed))
        return propose(self)

    monkeypatch.setattr(PPOController, "propose", spy)
    monkeypatch.setattr(nas.search, "run", ShuffledRunner(0, 8))
    run_search(config("ppo", trials=7), tmp_path / "a")
    assert [observed for _, observed in seen] == [0, 0, 0, 3, 3, 3, 6]
    seen.clear()
    run_search(config("ppo", trials=7, generation=5), tmp_path / "b")
    assert [observed for _, observed in seen] == [0] * 5 + [5, 5]


@pytest.mark.parametrize("lose_state", [False, True])
def test_killed_mid_generation_resumes_to_the_same_ledger(tmp_path, monkeypatch, lose_state):
    """Killed with results held back (a lower id still running), resumed with another arrival
    order: the same ledger as an uninterrupted run, and no finished trial evaluated again."""
    run_search(config("ppo", trials=12), tmp_path / "whole")
    out = tmp_path / "killed"
    monkeypatch.setattr(nas.search, "run", ShuffledRunner(3, 3, kill_after=5))
    with pytest.raises(KeyboardInterrupt):
        run_search(config("ppo", trials=12), out)
    held = Ledger(out, HELD).read()
    finished = {row["trial"] for row in Ledger(out).read()} | {row["trial"] for row in held}
    assert len(finished) == 5 and len(Ledger(out).read()) < 6  # generation 2 (t3..t5) killed mid-way
    if lose_state:
        (out / STATE).unlink()  # the strategy is then rebuilt from its seed and the ledger
    resumed = ShuffledRunner(4, 2)
    evaluated: list[str] = []
    original = resumed.__call__

    def counting(runner, source, on_result, *args, **kwargs):
        def note(row):
            evaluated.append(row["trial"])
            on_result(row)

        return original(runner, source, note, *args, **kwargs)

    monkeypatch.setattr(nas.search, "run", counting)
    run_search(config("ppo", trials=12), out, resume=True)
    assert content(out) == content(tmp_path / "whole")
    assert not set(evaluated) & finished and len(evaluated) == 7
    assert not (out / HELD).exists()


def test_resume_refuses_a_ledger_the_search_would_not_have_written(tmp_path, monkeypatch):
    """A folder whose config says synchronous but whose trials are not this search's proposals
    (here: an asynchronous evolution run relabelled) is refused before the runner (Ray) starts."""
    import json

    out = tmp_path / "run"
    run_search(config("evolution", trials=6, synchronous=False), out)
    stored = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**stored, "synchronous": True}))
    (out / STATE).unlink()
    before = (out / "trials.jsonl").read_bytes()

    def no_runner(*args, **kwargs):
        raise AssertionError("the runner was started")

    monkeypatch.setattr(nas.search, "run", no_runner)
    with pytest.raises(InputError, match="not the candidate this search proposes"):
        run_search(config("evolution", trials=8), out, resume=True)
    assert (out / "trials.jsonl").read_bytes() == before


def test_resume_refuses_a_ledger_of_another_schedule(tmp_path):
    out = tmp_path / "run"
    run_search(config("ppo", trials=4, synchronous=False), out)
    with pytest.raises(InputError, match="differs in synchronous"):
        run_search(config("ppo", trials=6), out, resume=True)
    with pytest.raises(InputError, match="generation"):
        nas.search.check_out_dir(config("ppo", trials=6, synchronous=False, generation=2), out, True)


@pytest.mark.slow
def test_sigkilled_search_resumes_to_the_uninterrupted_ledger(tmp_path):
    """`effnas search` SIGKILLed mid-generation, then --resume: the ledger of an uninterrupted run
    (zero-cost evaluator; ~60 s on a loaded 2-core machine: three CLI processes, 24 trials)."""
    args = ["search", "--target", "400M", "--strategy", "ppo", "--strategy-opt", "batch=4", "--evaluator",
            "zero-cost", "--eval-opt", "resolution=16", "--eval-opt", "batch=8", "--trials", "12", "--seed", "5",
            "--quiet", "--json"]
    command = [sys.executable, "-m", "effnas.cli", *args]
    whole = subprocess.run([*command, "--out", str(tmp_path / "whole")], capture_output=True, text=True)
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "killed"
    proc = subprocess.Popen([*command, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    rows: list = []
    while time.monotonic() < deadline and proc.poll() is None:
        rows = Ledger(out).read(repair=False) if (out / "trials.jsonl").exists() else []
        if len(rows) >= 5 and len(rows) % 4:  # inside the second generation (t4..t7)
            break
        time.sleep(0.01)
    assert proc.poll() is None, proc.stderr.read()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 5 <= len(Ledger(out).read()) < 12
    done = subprocess.run([*command, "--out", str(out), "--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert content(out) == content(tmp_path / "whole")


def test_trial_metrics_do_not_depend_on_the_drivers_threads():
    """A trial runs under the threads its runner gives it (inline as on Ray): the same bits whatever
    torch's thread count in the calling process. The proxy (threads=1, seed fixed) likewise."""
    arch = load_arch("mnasnet-a1").to_dict()
    proxy = {"dataset": "digits", "resolution": 16, "subset": 120, "epochs": 1, "batch": 40, "val_size": 60,
             "threads": 1, "seed": 3}
    before = torch.get_num_threads()
    rows = {}
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            rows[threads] = [evaluate_trial("a", arch, "zero-cost", TINY, threads=1),
                             evaluate_trial("b", arch, "proxy", proxy, threads=1)]
            assert torch.get_num_threads() == threads  # restored after the trial
    finally:
        torch.set_num_threads(before)
    for one, two in zip(rows[1], rows[2], strict=True):
        assert one["metric"] == two["metric"]
    assert rows[1][1]["details"]["train_loss"] == rows[2][1]["details"]["train_loss"]


@pytest.mark.slow
def test_ray_one_and_two_workers_write_the_inline_ledger(tmp_path):
    """The acceptance check on real Ray Tune trials: inline, Ray with 1 worker, Ray with 2."""
    import ray

    run_search(config("ppo", trials=8, evaluator="zero-cost"), tmp_path / "inline")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        for workers in (1, 2):
            run_search(config("ppo", trials=8, evaluator="zero-cost", runner="ray", max_concurrent=workers),
                       tmp_path / f"ray-{workers}")
    finally:
        ray.shutdown()
    expected = content(tmp_path / "inline")
    assert content(tmp_path / "ray-1") == expected and content(tmp_path / "ray-2") == expected
    assert len({row["worker"] for row in Ledger(tmp_path / "ray-2").read()}) == 2


def test_seeded_proxy_search_is_the_same_in_any_result_order(tmp_path, monkeypatch):
    """The proxy evaluator (real training, threads=1, seeded) in a synchronous search: the same
    ledger inline and with results arriving shuffled, metrics and train losses to the bit."""
    proxy = {"dataset": "digits", "resolution": 16, "subset": 64, "epochs": 1, "batch": 32, "val_size": 32,
             "threads": 1}
    search = {"strategy_options": {"batch": 2}, "evaluator_config": proxy}
    run_search(resolve_config(None, target=400_000_000, strategy="ppo", evaluator="proxy", trials=4, seed=2,
                              **search), tmp_path / "inline")
    monkeypatch.setattr(nas.search, "run", ShuffledRunner(1, 2))
    run_search(resolve_config(None, target=400_000_000, strategy="ppo", evaluator="proxy", trials=4, seed=2,
                              **search), tmp_path / "shuffled")
    expected = content(tmp_path / "inline")
    assert len(expected) == 4 and all(row["details"]["train_loss"] > 0 for row in expected)
    assert content(tmp_path / "shuffled") == expected
