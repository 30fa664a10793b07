"""Stage and layer geometry: the one home of the feature-map sizes and channels of an Arch.

A network is stem → stages → head (:class:`search_spaces.arch.Arch`). The stem is a k×k conv
(3×3 by default, ResNet's 7×7) with stride 2, followed in ResNet by a 3×3 max pool with stride 2 and
padding 1 (which also outputs ceil(H/2)); every conv of a stage pads so that a stride-s layer on an H×W map outputs
ceil(H/s)×ceil(W/s) (symmetric k//2 padding with odd kernels, and TF-"same" padding, agree), and
only the first layer of a stage strides. :func:`stage_geometry` and :func:`layer_geometry` walk
an Arch at a resolution and yield, per stage or per layer, the scaled block args (filters
rounded or pinned, repeats, input chained: :meth:`Arch.stages`) with the input and output side
of its square map; the head's input is the last stage's output. Plain Python: no torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .arch import Arch
    from .blocks import BlockArgs

STEM_KERNEL = 3
STEM_STRIDE = 2


def output_size(size: int, stride: int) -> int:
    """Side of the map a conv with `stride` outputs from a size×size input: ceil(size / stride)."""
    return -(-size // stride)


def stem_output_size(resolution: int, pooled: bool = False) -> int:
    """Side of the stem conv's output map at input `resolution`; with `pooled`, of the max pool after
    it (the first stage's input: Arch.stem_pool)."""
    size = output_size(resolution, STEM_STRIDE)
    return output_size(size, 2) if pooled else size


class StageGeometry(NamedTuple):
    """One stage after scaling. `stage`: its scaled BlockArgs (`repeats` layers, the first with
    `stride` and `in_filters`); `in_size`/`out_size`: sides (pixels) of its input and output maps."""

    index: int
    stage: BlockArgs
    in_size: int
    out_size: int

    @property
    def in_channels(self) -> int:
        return self.stage.in_filters

    @property
    def out_channels(self) -> int:
        return self.stage.out_filters

    @property
    def stride(self) -> int:
        return self.stage.stride


class LayerGeometry(NamedTuple):
    """One layer (a stage expanded, :meth:`Arch.layers`). `index`: its position among all layers
    (``blocks.N`` of the built model); `stage`: the index of its stage; `layer`: its BlockArgs
    (repeats 1); `in_size`/`out_size`: sides (pixels) of its input and output maps."""

    index: int
    stage: int
    layer: BlockArgs
    in_size: int
    out_size: int

    @property
    def in_channels(self) -> int:
        return self.layer.in_filters

    @property
    def out_channels(self) -> int:
        return self.layer.out_filters

    @property
    def stride(self) -> int:
        return self.layer.stride


def stage_geometry(arch: Arch, resolution: int | None = None) -> Iterator[StageGeometry]:
    """Every stage of `arch` at `resolution` (default: the arch's own), first stage first."""
    size = stem_output_size(resolution or arch.resolution, arch.stem_pool)
    for index, stage in enumerate(arch.stages):
        out = output_size(size, stage.stride)
        yield StageGeometry(index, stage, size, out)
        size = out


def layer_geometry(arch: Arch, resolution: int | None = None) -> Iterator[LayerGeometry]:
    """Every layer of `arch` at `resolution` (default: the arch's own), in the built model's order."""
    layers = iter(arch.layers())
    index = 0
    for geometry in stage_geometry(arch, resolution):
        size = geometry.in_size
        for _ in range(geometry.stage.repeats):
            layer = next(layers)
            out = output_size(size, layer.stride)
            yield LayerGeometry(index, geometry.index, layer, size, out)
            index, size = index + 1, out
