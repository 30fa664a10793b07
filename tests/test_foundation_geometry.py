"""search_spaces.geometry: the stage and layer sizes and channels it yields are the built model's."""

from __future__ import annotations

import pytest
import torch

from scaling.targets import fit_target
from search_spaces import load_arch
from search_spaces.geometry import layer_geometry, stage_geometry, stem_output_size


def _members():
    b0 = load_arch("efficientnet-b0")
    pinned = fit_target(b0, 700_000_000).arch  # pinned stage filters/repeats
    assert pinned.stage_filters or pinned.stage_repeats
    return [b0, b0.scaled(1.3, 1.6), pinned, load_arch("mnasnet-a1")]


def _layer_outputs(model: torch.nn.Module, resolution: int) -> list[tuple[int, ...]]:
    """(C, H, W) of every ``blocks.N`` output of `model` on one resolution×resolution image."""
    shapes: list[tuple[int, ...]] = []
    hooks = [block.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
             for block in model.blocks]
    with torch.no_grad():
        model.eval()(torch.zeros(1, model.arch.in_channels, resolution, resolution))
    for hook in hooks:
        hook.remove()
    return shapes


@pytest.mark.parametrize("arch", _members(), ids=lambda a: a.name)
@pytest.mark.parametrize(("size", "padding"), [(128, None), (97, None), (97, "same")])
def test_geometry_matches_built_model(arch, size, padding):
    model = arch.build(padding=padding)
    shapes = _layer_outputs(model, size)
    layers = list(layer_geometry(arch, size))
    assert [(g.out_channels, g.out_size, g.out_size) for g in layers] == shapes
    assert [g.index for g in layers] == list(range(arch.num_layers)) == list(range(len(model.blocks)))
    stages = list(stage_geometry(arch, size))
    assert [g.stage for g in stages] == list(arch.stages)
    ends = [int(info.module.split(".")[1]) for info in model.feature_info]
    assert [(g.out_channels, g.out_size, g.out_size) for g in stages] == [shapes[end] for end in ends]
    if size % arch.feature_strides[-1] == 0:
        assert [size // g.out_size for g in stages] == [info.reduction for info in model.feature_info]
    # stages and layers agree: a stage's first layer takes its input, its last gives its output
    assert stages[0].in_size == layers[0].in_size == stem_output_size(size)
    for g in stages:
        mine = [layer for layer in layers if layer.stage == g.index]
        assert len(mine) == g.stage.repeats and mine[0].in_size == g.in_size and mine[-1].out_size == g.out_size
        assert mine[0].stride == g.stride and mine[0].in_channels == g.in_channels
        assert all(layer.stride == 1 and layer.in_channels == g.out_channels for layer in mine[1:])


@pytest.mark.parametrize("arch", _members(), ids=lambda a: a.name)
def test_default_resolution_is_the_archs(arch):
    assert list(stage_geometry(arch)) == list(stage_geometry(arch, arch.resolution))
    assert list(layer_geometry(arch)) == list(layer_geometry(arch, arch.resolution))
    last = list(stage_geometry(arch))[-1]
    assert last.out_size == -(-arch.resolution // arch.feature_strides[-1])


def test_odd_sizes_round_up():
    arch = load_arch("efficientnet-b0")
    assert [(g.in_size, g.out_size) for g in stage_geometry(arch, 97)] == [
        (49, 49), (49, 25), (25, 13), (13, 7), (7, 7), (7, 4), (4, 4)]
