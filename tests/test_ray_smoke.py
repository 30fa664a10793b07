"""The Ray runner on an embedded local Ray (one small smoke test) and the unreachable-address probe."""

import os
import socket
import time

import pytest

from nas.ledger import Ledger
from nas.runners.ray_runner import connect, probe_address, shutdown
from nas.search import resolve_config, run_search
from search_spaces import InputError

TINY = {"resolution": 16, "batch": 8, "threads": 1}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_address_fails_fast(tmp_path):
    start = time.monotonic()
    with pytest.raises(InputError, match="cannot reach the Ray cluster"):
        probe_address(f"127.0.0.1:{_closed_port()}")
    with pytest.raises(InputError, match="host:port"):
        connect("nonsense")
    config = resolve_config(None, target=4e8, strategy="random", evaluator="zero-cost", trials=1, runner="ray")
    with pytest.raises(InputError, match="cannot reach"):
        run_search(config, tmp_path / "run", ray_address=f"127.0.0.1:{_closed_port()}")
    assert time.monotonic() - start < 30


def test_embedded_ray_search(tmp_path, monkeypatch):
    """A search of 2 trials run as Ray Tune trials, 2 at a time, on the embedded local Ray effnas
    starts (the multi-node, node-loss, worker-kill and evaluate_batch-on-Ray cases are in
    test_ray_cluster.py, slow); its workers run at the driver's priority, not Ray's nice 15."""
    import ray

    monkeypatch.delenv("RAY_worker_niceness", raising=False)
    assert connect(num_cpus=2)
    try:
        config = resolve_config(None, target=4e8, strategy="evolution", evaluator="zero-cost", trials=2, runner="ray",
                                max_concurrent=2, evaluator_config=TINY,
                                strategy_options={"population": 2, "sample": 1})
        summary = run_search(config, tmp_path / "run")
        assert ray.get(ray.remote(lambda: os.nice(0)).remote()) == os.nice(0)
    finally:
        shutdown()
    rows = Ledger(tmp_path / "run").read()
    assert summary["done"] == 2 and sorted(r["trial"] for r in rows) == ["t00000", "t00001"]
    assert all(r["evaluator"] == "zero-cost" and r["reward"] > 0 for r in rows)
    assert len({r["worker"] for r in rows}) == 2  # ran side by side in two worker processes
