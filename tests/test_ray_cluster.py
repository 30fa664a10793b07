"""Slow: the Ray runner on a multi-node cluster (ray.cluster_utils.Cluster) losing a node mid-run,
and a trial whose worker process is SIGKILLed mid-trial being retried (FailureConfig)."""

import os
import signal
import threading
import time

import numpy as np
import pytest

from nas.batch import evaluate_batch
from nas.ledger import Ledger
from nas.runners import RunnerSettings
from search_spaces import MnasNetSpace

pytestmark = pytest.mark.slow
PROXY = {"dataset": "digits", "subset": 64, "epochs": 1, "resolution": 16, "batch": 32, "val_size": 64, "threads": 1}


def candidates(n):
    space = MnasNetSpace()
    return [(f"c{i}", space.sample(np.random.default_rng(100 + i))) for i in range(n)]


def test_cluster_node_removed_mid_run_completes(tmp_path):
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    node = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    removed = threading.Event()

    def remove_after_first_result():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and len(Ledger(tmp_path).read(repair=False)) < 1:
            time.sleep(0.2)
        cluster.remove_node(node)
        removed.set()

    thread = threading.Thread(target=remove_after_first_result, daemon=True)
    thread.start()
    try:
        rows = evaluate_batch(candidates(5), "proxy", PROXY, tmp_path,
                              RunnerSettings("ray", ray_address=cluster.address, max_concurrent=2))
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert removed.is_set()
    assert [r["trial"] for r in rows] == [f"c{i}" for i in range(5)]
    assert len(Ledger(tmp_path).read()) == 5


def _trial_processes():
    import psutil

    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        title = " ".join(proc.info["cmdline"] or [])
        if "ray::" in title and ("ImplicitFunc" in title or "tune_trainable" in title):
            found.append(proc.info["pid"])
    return found


def test_worker_killed_mid_trial_is_retried(tmp_path):
    import ray

    killed = []

    def kill_one_worker():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            pids = _trial_processes()
            if pids:
                time.sleep(1.5)  # let it get into the trial
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.2)

    thread = threading.Thread(target=kill_one_worker, daemon=True)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    thread.start()
    try:
        rows = evaluate_batch(candidates(3), "proxy", PROXY, tmp_path, RunnerSettings("ray", max_concurrent=2))
    finally:
        ray.shutdown()
    assert killed, "no trial process was found to kill"
    assert [r["trial"] for r in rows] == ["c0", "c1", "c2"]
    assert all(r["worker"].split(":")[-1] != str(killed[0]) for r in rows if r["seconds"] > 0)
