"""Latency lookup table: keys follow the built network, calibration caches to JSON, predictions."""

from __future__ import annotations

import json

import pytest
import torch

import nas.latency as latency
from nas.latency import LatencyTable, layer_keys, measure, module_for
from search_spaces import InputError, MnasNetSpace, load_arch


def test_keys_chain_like_the_built_model() -> None:
    arch = MnasNetSpace().sample(3)
    keys = layer_keys(arch, 48)
    assert len(keys) == arch.num_layers + 2 and keys[0].startswith("stem") and keys[-1].startswith("head")
    x = torch.randn(1, 3, 48, 48)
    with torch.no_grad():
        for key in keys[:-1]:
            module, shape = module_for(key)
            assert tuple(x.shape[1:]) == shape, key
            x = module.eval()(x)
        assert module_for(keys[-1])[0].eval()(x).shape == (1, arch.num_classes)
    # a stage's repeated layers share one entry
    assert len(set(keys)) < len(keys)


def test_calibrate_cache_and_predict(tmp_path, monkeypatch) -> None:
    arch = load_arch("mnasnet-a1")
    path = tmp_path / "lut.json"
    table = LatencyTable(path, repeats=2, warmup=1)
    assert table.calibrate([arch], 32) == len(set(layer_keys(arch, 32)))
    assert table.raw_sum(arch, 32) > 0
    assert table.predict(arch, 32, fit=False) == pytest.approx(table.raw_sum(arch, 32))
    scale = table.fit_scale(32, [arch])
    predicted = table.predict(arch, 32)
    assert 0.2 < scale < 5 and predicted == pytest.approx(scale * table.raw_sum(arch, 32))
    saved = json.loads(path.read_text())
    assert saved["schema"] == "effnas.latency-lut/1" and saved["clock"] == "cpu"
    assert len(saved["entries"]) == len(table) and saved["scales"] == {"32": scale}

    def no_timing(*args, **kwargs):
        raise AssertionError("cached entries must not be re-timed")

    monkeypatch.setattr(latency, "time_module", no_timing)
    again = LatencyTable(path, repeats=2, warmup=1)
    assert again.predict(arch, 32) == pytest.approx(predicted)
    assert latency.predict(arch, 32, path=path) == pytest.approx(predicted)


def test_measure_end_to_end() -> None:
    assert measure(load_arch("mnasnet-a1"), 32, repeats=2, warmup=1) > 0
    assert measure(load_arch("mnasnet-a1"), 32, repeats=2, warmup=1, clock="wall") > 0


def test_bad_tables(tmp_path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(InputError, match="cannot read latency table"):
        LatencyTable(broken)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema": "effnas.latency-lut/1", "threads": 4, "clock": "wall", "entries": {}}))
    with pytest.raises(InputError, match="1 thread"):
        LatencyTable(other)
    with pytest.raises(InputError, match="clock"):
        LatencyTable(tmp_path / "x.json", clock="sundial")
    with pytest.raises(InputError, match="unknown latency table key"):
        module_for("pool|3|3")
