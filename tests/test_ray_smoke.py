"""The Ray runner on an embedded local Ray (one small smoke test) and the unreachable-address probe."""

import socket
import time

import numpy as np
import pytest

from nas.batch import evaluate_batch
from nas.ledger import Ledger
from nas.runners.ray_runner import connect, probe_address
from nas.search import resolve_config, run_search
from search_spaces import InputError, MnasNetSpace

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


def test_embedded_ray_search_and_batch(tmp_path):
    """A search with 2 trials as Ray Tune trials (2 at a time), then evaluate_batch on the same Ray
    (one candidate already in the ledger from an inline run: only the other one runs on Ray)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        config = resolve_config(None, target=4e8, strategy="evolution", evaluator="zero-cost", trials=2, runner="ray",
                                max_concurrent=2, evaluator_config=TINY, strategy_options={"population": 2,
                                                                                           "sample": 1})
        summary = run_search(config, tmp_path / "run")
        rows = Ledger(tmp_path / "run").read()
        assert summary["done"] == 2 and sorted(r["trial"] for r in rows) == ["t00000", "t00001"]
        assert all(r["evaluator"] == "zero-cost" and r["reward"] > 0 for r in rows)
        space = MnasNetSpace()
        candidates = [(f"k{i}", space.sample(np.random.default_rng(i))) for i in range(2)]
        first = evaluate_batch(candidates[:1], "zero-cost", TINY, tmp_path / "batch", runner="inline")
        batch = evaluate_batch(candidates, "zero-cost", TINY, tmp_path / "batch", runner="ray")
        assert [r["trial"] for r in batch] == ["k0", "k1"] and batch[0] == first[0]
        again = evaluate_batch(candidates, "zero-cost", TINY, tmp_path / "batch", runner="ray")
        assert again == batch  # resumed from the ledger, nothing re-run
    finally:
        ray.shutdown()
