"""ResNet's basic block (He et al. 2016; torchvision's BasicBlock, ``rb_``): k×k conv (the stride) +
BN + activation, k×k conv + BN, added to the shortcut, then the activation. The ``identity`` skip is
ResNet's: the input itself where the shape is kept, else a projection (strided 1×1 conv + BN);
``noskip`` drops the residual. Output filters scale as any conv's (round_filters)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import BlockKind, LayerContext, projection_cost

if TYPE_CHECKING:
    from torch import nn

    from ..blocks import BlockArgs


def cost(cin: int, cout: int, k: int, s: int, e: int, se: float, skip: str, size: int, out: int) -> tuple[int, int]:
    area = out * out
    params = k * k * cin * cout + k * k * cout * cout + 4 * cout           # two k×k convs + BN
    macs = area * k * k * (cin + cout) * cout
    if skip != "none" and (s != 1 or cin != cout):                         # projection shortcut + BN
        p, m = projection_cost(cin, cout, area)
        params, macs = params + p, macs + m
    return params, macs


def build(args: BlockArgs, context: LayerContext) -> nn.Module:
    from ..ops import ConvBnAct, Layer, make_activation, projection

    cin, cout, act, bn = args.in_filters, args.out_filters, context.activation, context.bn
    conv1 = ConvBnAct(cin, cout, args.kernel, args.stride, activation=act, bn=bn, padding=context.padding)
    conv2 = ConvBnAct(cout, cout, args.kernel, activation=None, bn=bn, padding=context.padding)
    return Layer("basic", [("conv1", conv1), ("conv2", conv2)], order=("conv1", "conv2"),
                 residual=args.skip != "none", shortcut=projection(args, bn), post=make_activation(act),
                 drop_rate=context.drop_rate)


def torchvision(_args: BlockArgs) -> list[tuple[str, str]]:
    return [("conv1", "conv1.conv"), ("bn1", "conv1.bn"), ("conv2", "conv2.conv"), ("bn2", "conv2.bn"),
            ("downsample.0", "shortcut.conv"), ("downsample.1", "shortcut.bn")]


def node(_args: BlockArgs) -> str:
    return "basic"


def widest(args: BlockArgs) -> int:
    return max(args.in_filters, args.out_filters)


KIND = BlockKind(name="basic", label="ResNet basic block", prefixes=("rb",), keys=frozenset({"noskip"}),
                 cost=cost, build=build, node=node, widest=widest, torchvision=torchvision)
