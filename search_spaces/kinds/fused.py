"""Fused-MBConv (EfficientNetV2, Tan & Le 2021, Fig. 2; timm ``er_``, EdgeResidual): MBConv's 1×1
expand and k×k depthwise fused into one k×k regular conv (the stride) + BN + activation, optional SE
on its output (bottleneck from the block input), then a 1×1 linear projection; at expansion 1 the
k×k conv goes straight to the output channels and there is no projection. Skips as MBConv's:
identity where the shape is kept, or ``none``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import BlockKind, LayerContext, se_cost, se_reduced, torchvision_sequence
from .mbconv import has_residual

if TYPE_CHECKING:
    from torch import nn

    from ..blocks import BlockArgs


def cost(cin: int, cout: int, k: int, s: int, e: int, se: float, skip: str, size: int, out: int) -> tuple[int, int]:
    mid, area = (cin * e if e != 1 else cout), out * out
    params, macs = k * k * cin * mid + 2 * mid, area * k * k * cin * mid   # the fused k×k conv + BN
    if e != 1:                                                             # 1×1 projection + BN
        params += mid * cout + 2 * cout
        macs += area * mid * cout
    if se > 0:                                                       # SE on the k×k conv's output
        p, m = se_cost(mid, cin, se)
        params, macs = params + p, macs + m
    return params, macs


def build(args: BlockArgs, context: LayerContext) -> nn.Module:
    from ..ops import ConvBnAct, Layer, SqueezeExcite

    cin, act, bn = args.in_filters, context.activation, context.bn
    mid = cin * args.expand_ratio if args.expand_ratio != 1 else args.out_filters
    conv = ConvBnAct(cin, mid, args.kernel, args.stride, activation=act, bn=bn, padding=context.padding)
    se = SqueezeExcite(mid, se_reduced(cin, args.se_ratio), act) if args.has_se else None
    project = ConvBnAct(mid, args.out_filters, 1, activation=None, bn=bn) if args.expand_ratio != 1 else None
    return Layer("fused", [("conv", conv), ("se", se), ("project", project)], order=("conv", "se", "project"),
                 residual=has_residual(args), drop_rate=context.drop_rate)


def torchvision(args: BlockArgs) -> list[tuple[str, str]]:
    return torchvision_sequence(["conv"] + (["project"] if args.expand_ratio != 1 else []))


def node(args: BlockArgs) -> str:
    return f"fused{args.expand_ratio}"


def widest(args: BlockArgs) -> int:
    return (max(args.in_filters, args.out_filters) if args.repeats > 1 else args.in_filters) * args.expand_ratio


KIND = BlockKind(name="fused", label="fused-MBConv", prefixes=("er",), keys=frozenset({"e", "se", "noskip"}),
                 cost=cost, build=build, node=node, widest=widest, torchvision=torchvision)
