"""compound_scale: the formula, the rounding, floors, φ = 0 identity, explicit multipliers."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling import compound_scale, scale
from scaling.scale import RESOLUTION_MULTIPLE, SCALED_RESOLUTION_FLOOR, WIDTH_FLOOR, round_resolution
from search_spaces import InputError, MnasNetSpace, load_arch
from search_spaces.rounding import round_filters

B0 = load_arch("efficientnet-b0")
A1 = load_arch("mnasnet-a1")


@pytest.mark.parametrize("base", [B0, A1, MnasNetSpace().sample(5)])
def test_phi_zero_is_identity(base):
    assert compound_scale(base, 0) is base
    assert compound_scale(base, 0.0, 1.5, 1.5, 1.5, allow_any=True) is base
    assert scale(base) is base


def test_formula_phi_one_on_b0():
    arch = compound_scale(B0, 1)
    assert arch.width == 1.1 and arch.depth == 1.2
    assert arch.resolution == 256  # 224 · 1.15 = 257.6 → nearest multiple of 8
    assert [s.repeats for s in arch.stages] == [math.ceil(1.2 * r) for r in (1, 2, 2, 3, 3, 4, 1)]
    assert [s.out_filters for s in arch.stages] == [round_filters(f, 1.1) for f in (16, 24, 40, 80, 112, 192, 320)]
    assert arch.stem_channels == round_filters(32, 1.1) and arch.head_channels == round_filters(1280, 1.1)


@given(phi=st.floats(-3, 7, allow_nan=False))
@settings(max_examples=60, deadline=None)
def test_formula_any_phi(phi):
    arch = compound_scale(B0, phi)
    if phi == 0:
        return
    assert arch.width == pytest.approx(max(1.1**phi, WIDTH_FLOOR), abs=1e-6)
    assert arch.depth == pytest.approx(1.2**phi, abs=1e-6)
    assert arch.depth <= 1.2**phi + 1e-9  # rounded down, never up
    raw = 224 * 1.15**phi
    assert arch.resolution % RESOLUTION_MULTIPLE == 0
    assert arch.resolution >= SCALED_RESOLUTION_FLOOR
    assert abs(arch.resolution - max(raw, SCALED_RESOLUTION_FLOOR)) <= RESOLUTION_MULTIPLE / 2 + 1e-9
    # monotone: more φ never gives fewer MACs
    assert compound_scale(B0, phi + 0.3).cost().macs >= arch.cost().macs


def test_macs_grow_about_two_to_phi_at_large_phi():
    base = B0.cost().macs
    for phi in (5, 6, 7):
        growth = compound_scale(B0, phi).cost().macs / base
        assert 0.7 * 2**phi < growth < 1.1 * 2**phi  # product is 1.92, ceil rounding adds


def test_negative_phi_floors():
    tiny = compound_scale(B0, -30)
    assert tiny.width == WIDTH_FLOOR
    assert tiny.resolution == SCALED_RESOLUTION_FLOOR
    assert all(s.repeats == 1 for s in tiny.stages)
    assert all(s.out_filters >= 8 for s in tiny.stages)
    assert compound_scale(B0, -40).cost() == tiny.cost()


def test_fractional_phi_between_neighbours():
    macs = [compound_scale(B0, p).cost().macs for p in (1, 1.5, 2)]
    assert macs[0] < macs[1] < macs[2]


def test_composes_with_base_multipliers():
    b1 = load_arch("efficientnet-b1")
    arch = compound_scale(b1, 1)
    assert arch.depth == pytest.approx(1.1 * 1.2) and arch.width == pytest.approx(1.1)
    assert arch.resolution == round_resolution(240 * 1.15)


def test_explicit_multipliers():
    assert scale(B0, depth=2.0).depth == 2.0 and scale(B0, depth=2.0).resolution == 224
    assert scale(B0, width=2.0).width == 2.0
    assert scale(B0, resolution=2.0).resolution == 448
    assert scale(B0, resolution=1.3).resolution == round_resolution(224 * 1.3)


@pytest.mark.parametrize("phi", [float("nan"), float("inf"), "1", True, 51])
def test_bad_phi(phi):
    with pytest.raises(InputError):
        compound_scale(B0, phi)


def test_bad_coefficients_and_multipliers():
    with pytest.raises(InputError, match="alpha\\*beta"):
        compound_scale(B0, 1, 1.5, 1.5, 1.5)
    with pytest.raises(InputError, match=">= 1"):
        compound_scale(B0, 1, 0.9, 1.2, 1.25)
    with pytest.raises(InputError):
        scale(B0, width=0)
    with pytest.raises(InputError, match="exceeds"):
        compound_scale(B0, 30)
