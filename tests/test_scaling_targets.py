"""MACs targets: bisection on φ + rounding-neighbourhood search (property tests over bases)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling import compound_scale, fit_target, smallest_macs
from scaling.targets import DRIFT_TOLERANCE
from search_spaces import Arch, InputError, MnasNetSpace, load_arch

B0 = load_arch("efficientnet-b0")
BASES = {"b0": B0, "a1": load_arch("mnasnet-a1"), "space": MnasNetSpace().sample(np.random.default_rng(11))}
log_targets = st.floats(math.log(1e8), math.log(5e10)).map(lambda x: int(math.exp(x)))


@pytest.mark.parametrize("name", sorted(BASES))
@given(target=log_targets)
@settings(max_examples=25, deadline=None)
def test_targets_within_one_percent(name, target):
    base = BASES[name]
    fit = fit_target(base, target)
    assert abs(fit.error) <= 0.01, (target, fit)
    assert fit.drift <= DRIFT_TOLERANCE
    # the member really is that network: reloading gives exactly its cost
    again = Arch.from_dict(fit.arch.to_dict())
    assert again.cost() == (fit.params, fit.macs) == fit.arch.cost()
    # near the compound ratio: each dimension within ~10% of the compound member at the solved φ
    nominal = compound_scale(base, fit.phi)
    assert abs(math.log(fit.arch.resolution / nominal.resolution)) <= DRIFT_TOLERANCE + 1e-9
    assert fit.arch.width == nominal.width and fit.arch.depth == nominal.depth


def test_known_targets_on_b0():
    for target in (100e6, 150e6, 400e6, 600e6, 1e9, 3e9, 10e9, 50e9):
        fit = fit_target(B0, int(target))
        assert abs(fit.error) <= 0.01, (target, fit.error)
    # the base's own MACs come back as the base (φ ≈ 0, no pins)
    own = fit_target(B0, B0.cost().macs)
    assert own.macs == B0.cost().macs and abs(own.phi) < 0.05  # on the plateau of φ that rounds to B0


def test_phi_grows_with_target():
    phis = [fit_target(B0, int(t)).phi for t in (2e8, 8e8, 3.2e9, 1.28e10)]
    assert phis == sorted(phis)
    assert all(1.5 < b - a < 2.5 for a, b in zip(phis, phis[1:], strict=False))  # ×4 MACs ≈ +2 φ


def test_below_smallest_refused_naming_it():
    smallest = smallest_macs(B0)
    assert 1_000_000 < smallest < 10_000_000
    with pytest.raises(InputError, match=f"{smallest:,}"):
        fit_target(B0, 1_000_000)
    assert fit_target(B0, smallest).macs == smallest


@pytest.mark.parametrize("target", [0, -5, float("nan"), True])
def test_bad_target(target):
    with pytest.raises(InputError):
        fit_target(B0, target)


def test_target_respects_coefficients():
    depthy = fit_target(B0, 2_000_000_000, (1.8, 1.0, 1.05), allow_any=True)
    widthy = fit_target(B0, 2_000_000_000, (1.0, 1.3, 1.05), allow_any=True)
    assert depthy.arch.num_layers > widthy.arch.num_layers
    assert abs(depthy.error) <= 0.01 and abs(widthy.error) <= 0.01
    with pytest.raises(InputError):
        fit_target(B0, 2_000_000_000, (1.8, 1.0, 1.2))


def test_above_largest_refused():
    with pytest.raises(InputError, match="above the largest"):
        fit_target(B0, 10**18)
