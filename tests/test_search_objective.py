"""MnasNet objective: ACC·(cost/T)^w, w = α if cost ≤ T else β (Tan et al. 2019, eq. 2)."""

import math

import pytest

from nas.objective import Objective
from search_spaces import InputError, load_arch


def test_soft_reward_is_b0s_setting():
    objective = Objective.create(400e6, "soft")
    assert (objective.alpha, objective.beta) == (-0.07, -0.07)
    assert objective.reward(0.8, 400e6) == pytest.approx(0.8)
    assert objective.reward(0.8, 200e6) == pytest.approx(0.8 * 0.5 ** -0.07)
    assert objective.reward(0.8, 800e6) == pytest.approx(0.8 * 2 ** -0.07)
    # soft: halving the cost buys ~5% accuracy (2^0.07 = 1.0497)
    assert objective.reward(0.8, 200e6) / objective.reward(0.8, 400e6) == pytest.approx(2 ** 0.07)


def test_hard_reward_penalises_only_above_target():
    objective = Objective.create(400e6, "hard")
    assert objective.reward(0.7, 100e6) == pytest.approx(0.7)
    assert objective.reward(0.7, 400e6) == pytest.approx(0.7)
    assert objective.reward(0.7, 800e6) == pytest.approx(0.35)


def test_user_reward_and_exponent_switch():
    objective = Objective.create(10.0, "user", alpha=-0.1, beta=-0.5, kind="latency")
    assert objective.exponent(10.0) == -0.1 and objective.exponent(10.01) == -0.5
    assert objective.reward(1.0, 20.0) == pytest.approx(2 ** -0.5)
    with pytest.raises(InputError):
        Objective.create(10.0, "user", alpha=-0.1)


@pytest.mark.parametrize("target", [0, -5, math.inf, math.nan])
def test_bad_target(target):
    with pytest.raises(InputError):
        Objective.create(target)


def test_macs_cost_is_full_resolution_macs():
    b0 = load_arch("efficientnet-b0")
    assert Objective.create(400e6).cost(b0) == b0.cost().macs


def test_score_sets_the_reward_of_a_trial_row():
    """One rule for every ledger/reference row: cost = the row's MACs (or its arch's predicted
    latency), latency_ms only where asked for (the search's trials.jsonl), set before the reward."""
    b0 = load_arch("efficientnet-b0")
    macs = b0.cost().macs
    row = {"trial": "t", "arch": b0.to_dict(), "macs": macs, "metric": 0.5}
    scored = Objective.create(2 * macs).score(row, record_latency=True)
    assert scored is row and "latency_ms" not in row
    assert row["reward"] == Objective.create(2 * macs).reward(0.5, macs) == pytest.approx(0.5 * 0.5 ** -0.07)

    latency = Objective.create(10.0, kind="latency")
    predicted = latency.cost(b0)
    plain = latency.score({"arch": b0.to_dict(), "macs": macs, "metric": 0.5})
    assert "latency_ms" not in plain and plain["reward"] == latency.reward(0.5, predicted)
    recorded = latency.score({"arch": b0.to_dict(), "macs": macs, "metric": 0.5}, record_latency=True)
    assert recorded["latency_ms"] == predicted and list(recorded)[-2:] == ["latency_ms", "reward"]
    assert recorded["reward"] == plain["reward"]
