"""The block-kind interface: what one kind of layer carries, and the costs its parts share.

A kind (one module in this package, registered in ``search_spaces.kinds``) is a small record of
functions, so that the block-string codec, the analytic cost, the torch module, the graph node and
the width-scaling rule of a layer kind live in one file:

* codec: the block-string prefixes it is read under (the first is written; "" writes none) and
  the optional keys its strings take besides ``r k s i o|c`` (``e``, ``se``, ``noskip``, ``poolskip``);
* ``cost(cin, cout, k, s, e, se, skip, size, out)`` → (params, MACs) of one layer on a size×size
  input with an out×out output: closed form, BN affine counted, bias-free convs, MACs of convs only
  (plain arithmetic: it is the cost model's inner loop);
* ``build(args, context)`` → the layer's torch module (torch is imported there, never at import);
* ``node(args)`` → the op name a graph node and ``effnas arch show`` print;
* ``check(args)`` → why a record is not a valid layer of this kind ("" when it is);
* ``scale_filters(args, width, divisor)`` and ``filter_unit(args, divisor)``: how a width multiplier
  applies to the stage's output filters, and the step between the filter counts it can take;
* ``torchvision(args)`` (where torchvision has the kind) → (torchvision's name, effnas's name) of each
  part of the layer, so that torchvision's state dicts load (search_spaces.weights).

Plain Python: no torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from ..rounding import round_filters

if TYPE_CHECKING:
    from torch import nn

    from ..blocks import BlockArgs

OPTIONAL_KEYS = ("e", "se", "noskip", "poolskip")


class LayerContext(NamedTuple):
    """What every layer of an Arch shares: activation name, BN (eps, momentum), this layer's
    drop-path rate and the padding mode (None: symmetric k//2; "same": TF)."""

    activation: str
    bn: tuple[float, float]
    drop_rate: float
    padding: str | None


def _valid(_args: BlockArgs) -> str:
    return ""


def _round(args: BlockArgs, width: float, divisor: int) -> int:
    return round_filters(args.out_filters, width, divisor)


def _unit(_args: BlockArgs, divisor: int) -> int:
    return divisor


@dataclass(frozen=True, eq=False)
class BlockKind:
    """One kind of layer (see the module docstring). `name` is the BlockArgs ``op`` value."""

    name: str
    label: str
    prefixes: tuple[str, ...]
    keys: frozenset[str]
    cost: Callable[[int, int, int, int, int, float, str, int, int], tuple[int, int]]
    build: Callable[[BlockArgs, LayerContext], nn.Module]
    node: Callable[[BlockArgs], str]
    widest: Callable[[BlockArgs], int]
    check: Callable[[BlockArgs], str] = field(default=_valid)
    scale_filters: Callable[[BlockArgs, float, int], int] = field(default=_round)
    filter_unit: Callable[[BlockArgs, int], int] = field(default=_unit)
    torchvision: Callable[[BlockArgs], list[tuple[str, str]]] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.keys) - set(OPTIONAL_KEYS)
        if unknown:
            raise ValueError(f"kind {self.name!r}: unknown block-string keys {sorted(unknown)}")

    def __repr__(self) -> str:
        return f"BlockKind({self.name!r})"


def se_reduced(in_filters: int, se_ratio: float) -> int:
    """SE bottleneck width: max(1, int(block input filters · se_ratio)) (official rule)."""
    return max(1, int(in_filters * se_ratio))


def se_cost(channels: int, cin: int, se_ratio: float) -> tuple[int, int]:
    """(params, MACs) of squeeze-and-excitation on `channels` with its bottleneck from the block input
    `cin`: two 1×1 convs with bias on the pooled vector (call it where se_ratio > 0)."""
    reduced = se_reduced(cin, se_ratio)
    return 2 * channels * reduced + reduced + channels, 2 * channels * reduced


def projection_cost(cin: int, cout: int, area: int) -> tuple[int, int]:
    """(params, MACs) of a shortcut's 1×1 conv + BN with `area` output pixels: the ``pool`` skip's where
    channels differ, ResNet's projection where the shape changes."""
    return cin * cout + 2 * cout, area * cin * cout


def se_and_pool_skip_cost(channels: int, cin: int, cout: int, se_ratio: float, skip: str,
                          area: int) -> tuple[int, int]:
    """(params, MACs) of what the MnasNet-space kinds add to their convs: SE on `channels` (where
    se_ratio > 0) and the ``pool`` skip's 1×1 + BN (where channels differ); (0, 0) for neither."""
    params = macs = 0
    if se_ratio > 0:
        params, macs = se_cost(channels, cin, se_ratio)
    if skip == "pool" and cin != cout:
        p, m = projection_cost(cin, cout, area)
        params, macs = params + p, macs + m
    return params, macs


def keeps_shape(cin: int, cout: int, stride: int) -> bool:
    return stride == 1 and cin == cout


def torchvision_sequence(parts: list[str]) -> list[tuple[str, str]]:
    """torchvision's ``block.j`` names of a layer that is a Sequential of Conv2dNormActivation parts (and
    an SE), mapped onto effnas's part names (ConvBnAct: .conv, .bn; SE: .reduce, .expand)."""
    names = []
    for index, part in enumerate(parts):
        if part == "se":
            names += [(f"block.{index}.fc1", "se.reduce"), (f"block.{index}.fc2", "se.expand")]
        else:
            names += [(f"block.{index}.0", f"{part}.conv"), (f"block.{index}.1", f"{part}.bn")]
    return names
