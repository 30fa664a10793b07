"""The cost band: only candidates within T·(1 ± b) are trained, drawn by rejection from any strategy;
seeded, resumable and reproducible like any search; bad bands are refused before anything is written."""

import io

import pytest
import torch
from search_helpers import content
from test_search_reproducible import ShuffledRunner, config

import nas.search
from nas.ledger import HELD, STATE, Ledger
from nas.search import resolve_config, run_search
from nas.strategies import make_strategy
from nas.strategies.band import CostBand, band_limits
from search_spaces import InputError, MnasNetSpace

SPACE = MnasNetSpace()


def macs(tokens):
    return SPACE.decode(tokens).cost().macs


def banded(seed=3, strategy="evolution"):
    inner = make_strategy(strategy, SPACE, seed, **({"population": 4, "sample": 2} if strategy == "evolution" else {}))
    return CostBand(inner, macs, *band_limits(400e6, 0.1))


@pytest.mark.parametrize("strategy", ["random", "evolution", "ppo"])
def test_search_trains_only_within_the_band(tmp_path, strategy):
    run_search(config(strategy, trials=9, band=0.1), tmp_path / "band")
    rows = Ledger(tmp_path / "band").read()
    assert [row["trial"] for row in rows] == [f"t{i:05d}" for i in range(9)]
    assert all(360e6 <= row["macs"] <= 440e6 for row in rows)
    saved = torch.load(tmp_path / "band" / STATE, weights_only=True)["strategy"]
    assert saved["strategy"] == "band" and saved["rejected"] > 0  # ~3 of 4 uniform members lie outside


def test_without_a_band_the_search_trains_outside_it(tmp_path):
    run_search(config("random", trials=9), tmp_path / "free")
    assert any(not 360e6 <= row["macs"] <= 440e6 for row in Ledger(tmp_path / "free").read())


def test_band_strategy_is_seeded_and_resumes_from_its_state():
    a, b = banded(), banded()
    first = [a.propose()[1] for _ in range(6)]
    assert first == [b.propose()[1] for _ in range(6)]
    for trial_id in range(6):
        a.observe(trial_id, 0.5 + trial_id / 100)
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    buffer.seek(0)
    restored = banded(seed=99)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert restored.rejected == a.rejected > 0
    assert [restored.propose()[1] for _ in range(4)] == [a.propose()[1] for _ in range(4)]


def test_failed_trial_is_discarded_by_the_wrapped_strategy():
    strategy = banded(strategy="evolution")
    trial_id, _ = strategy.propose()
    strategy.discard(trial_id)
    assert not strategy.pending and not strategy.inner.pending


@pytest.mark.parametrize("lose_state", [False, True])
def test_banded_search_killed_mid_generation_resumes_to_the_same_ledger(tmp_path, monkeypatch, lose_state):
    run_search(config("ppo", trials=9, band=0.1), tmp_path / "whole")
    out = tmp_path / "killed"
    monkeypatch.setattr(nas.search, "run", ShuffledRunner(3, 3, kill_after=4))
    with pytest.raises(KeyboardInterrupt):
        run_search(config("ppo", trials=9, band=0.1), out)
    if lose_state:
        (out / STATE).unlink()
    monkeypatch.setattr(nas.search, "run", ShuffledRunner(5, 2))
    run_search(config("ppo", trials=9, band=0.1), out, resume=True)
    assert content(out) == content(tmp_path / "whole")
    assert not (out / HELD).exists()


def test_band_zero_is_no_band_and_presets():
    assert resolve_config(None, target=400e6, evaluator="zero-cost", band=0)["band"] is None
    assert resolve_config("b0-local")["band"] == 0.1
    assert resolve_config("b0-local", band=0)["band"] is None


@pytest.mark.parametrize("band, fragment", [(-0.1, "cost band"), (0.95, "cost band"), ("x", "cost band"),
                                            (float("nan"), "cost band"), (True, "cost band")])
def test_bad_bands_are_refused(band, fragment):
    with pytest.raises(InputError, match=fragment):
        resolve_config(None, target=400e6, evaluator="zero-cost", band=band)


def test_unreachable_band_is_refused_before_the_search():
    with pytest.raises(InputError, match="widen --band"):
        resolve_config(None, target=1e6, evaluator="zero-cost", band=0.01)
