"""Every strategy proposes valid MnasNet-space members, is seed-deterministic, resumes from its
state_dict, and the learned ones move toward reward."""

import numpy as np
import pytest
import torch

from nas.strategies import STRATEGIES, make_strategy
from search_spaces import InputError, MnasNetSpace

SPACE = MnasNetSpace()
FAST = ["random", "evolution", "ppo", "nni-evolution", "nni-tpe"]
OPTIONS = {
    "nni-tpe": {"startup": 5, "candidates": 8},
    "ppo": {"batch": 4, "hidden": 32, "epochs": 2},
    "evolution": {"population": 6, "sample": 3},
    "nni-evolution": {"population": 6, "sample": 3},
}


def toy_reward(tokens):
    return float(tokens[0] == 2) + 0.01 * sum(tokens[4::6])


def drive(strategy, n, in_flight=3):
    """Asynchronous use: keep `in_flight` proposals outstanding, observe the oldest."""
    seen, queue = [], []
    for _ in range(n):
        while len(queue) < in_flight:
            queue.append(strategy.propose())
        trial_id, tokens = queue.pop(0)
        seen.append(tokens)
        strategy.observe(trial_id, toy_reward(tokens))
    return seen


@pytest.mark.parametrize("name", FAST)
def test_valid_deterministic_and_resumable(name):
    torch.set_num_threads(1)
    a = make_strategy(name, SPACE, seed=7, **OPTIONS.get(name, {}))
    b = make_strategy(name, SPACE, seed=7, **OPTIONS.get(name, {}))
    seq_a, seq_b = drive(a, 8), drive(b, 8)
    assert seq_a == seq_b
    for tokens in seq_a:
        assert SPACE.contains(SPACE.decode(tokens))
    c = make_strategy(name, SPACE, seed=8, **OPTIONS.get(name, {}))
    assert drive(c, 8) != seq_a
    # state round trip through torch.save/torch.load(weights_only=True)
    import io

    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    buffer.seek(0)
    restored = make_strategy(name, SPACE, seed=123, **OPTIONS.get(name, {}))
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    for trial_id in list(a.pending):  # in-flight proposals are not part of a resumed state
        a.discard(trial_id)
    assert drive(restored, 4, in_flight=1) == drive(a, 4, in_flight=1)


def test_unknown_strategy_and_options():
    with pytest.raises(InputError):
        make_strategy("nope")
    with pytest.raises(InputError):
        make_strategy("random", SPACE, 0, population=3)
    assert set(FAST) == set(STRATEGIES)


def test_evolution_mutates_one_token_of_tournament_winner_and_ages():
    evo = make_strategy("evolution", SPACE, seed=0, population=4, sample=4)
    drive(evo, 4, in_flight=1)
    best = max(evo.population, key=lambda m: m[1])[0]
    trial_id, child = evo.propose()
    assert sum(x != y for x, y in zip(child, best, strict=True)) == 1
    oldest = evo.population[0]
    evo.observe(trial_id, -1.0)
    assert len(evo.population) == 4 and evo.population[0] != oldest


def test_ppo_raises_probability_of_rewarded_token():
    torch.set_num_threads(1)
    ppo = make_strategy("ppo", SPACE, seed=0, batch=5, lr=0.02)
    before = ppo.probabilities(0, [])[2]
    for _ in range(40):
        trial_id, tokens = ppo.propose()
        ppo.observe(trial_id, 1.0 if tokens[0] == 2 else 0.0)
    after = ppo.probabilities(0, [])[2]
    assert before == pytest.approx(0.25)
    assert after > 0.5, (before, after)
    assert ppo.updates == 8


def test_random_is_uniform_per_position():
    rnd = make_strategy("random", SPACE, seed=1)
    tokens = np.array([rnd.propose()[1] for _ in range(400)])
    assert set(tokens[:, 0]) == set(range(SPACE.choices[0]))


@pytest.mark.parametrize("name", ["nni-evolution", "nni-tpe"])
def test_nni_state_loads_the_same_into_a_used_strategy(name):
    """The NNI adapters restore through a new NNI strategy/tuner (NNI's public API): loading a state
    into a strategy that has already run leaves nothing of its own run behind (TPE's liar included),
    and proposals go on as from a fresh one, with trials in flight."""
    used = make_strategy(name, SPACE, seed=5, **OPTIONS[name])
    drive(used, 9)
    state = used.state_dict()
    fresh = make_strategy(name, SPACE, seed=6, **OPTIONS[name])
    other = make_strategy(name, SPACE, seed=7, **OPTIONS[name])
    drive(other, 5)
    fresh.load_state_dict(state)
    other.load_state_dict(state)
    assert drive(other, 6, in_flight=2) == drive(fresh, 6, in_flight=2)
