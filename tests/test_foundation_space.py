"""The MnasNet factorized hierarchical space."""

import numpy as np
import pytest

from search_spaces import InputError, MnasNetSpace, load_arch


def test_b0_and_a1_are_members_of_the_default_space():
    space = MnasNetSpace()
    for name in ("efficientnet-b0", "mnasnet-a1", "mobilenet-v2"):
        arch = load_arch(name)
        assert space.contains(arch), name
        tokens = space.encode(arch)
        decoded = space.decode(tokens)
        assert decoded.cost() == space.canonical(arch).cost() == arch.cost()


def test_literal_paper_filters_cannot_express_b0():
    paper = MnasNetSpace(filters="paper")
    assert not paper.contains(load_arch("efficientnet-b0"))
    assert paper.filter_choices(4) == (72, 96, 120)
    assert set(paper.filter_choices(4)) <= set(MnasNetSpace().filter_choices(4))


def test_per_block_subspace_is_432_for_three_layer_choices():
    space = MnasNetSpace(filters="paper")
    sizes = [int(np.prod([len(v) for v in space.block_choices(b)])) for b in range(7)]
    assert sizes[2] == 4 * 2 * 2 * 3 * 3 * 3 == 432


def test_sampling_is_seeded_and_encode_decode_round_trips():
    space = MnasNetSpace()
    a = [space.sample(np.random.default_rng(3)) for _ in range(2)]
    assert a[0] == a[1]
    rng = np.random.default_rng(0)
    for _ in range(50):
        tokens = space.sample_tokens(rng)
        assert space.encode(space.decode(tokens)) == tokens


def test_scaled_and_foreign_archs_are_not_members():
    space = MnasNetSpace()
    assert not space.contains(load_arch("efficientnet-b1"))
    with pytest.raises(InputError):
        space.encode(load_arch("mnasnet-b1").with_(blocks=load_arch("mnasnet-b1").blocks[:6]))
    with pytest.raises(InputError):
        space.decode([0] * 41)
