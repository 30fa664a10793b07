"""The depthwise-separable conv of MobileNetV1 (timm ``dsa_``): k×k depthwise + BN + activation (the
stride), optional SE on it, then a 1×1 pointwise conv + BN + activation — unlike MnasNet's
depthwise-separable choice (MBConv at expansion 1), whose projection is linear. Skips: identity where
the shape is kept, ``none`` (MobileNetV1 itself has no residuals: its preset says ``noskip``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import BlockKind, LayerContext, se_cost, se_reduced
from .mbconv import has_residual

if TYPE_CHECKING:
    from torch import nn

    from ..blocks import BlockArgs


def cost(cin: int, cout: int, k: int, s: int, e: int, se: float, skip: str, size: int, out: int) -> tuple[int, int]:
    params = k * k * cin + 2 * cin + cin * cout + 2 * cout           # depthwise + BN, pointwise + BN
    macs = out * out * (k * k * cin + cin * cout)
    if se > 0:                                                       # SE on the depthwise output
        p, m = se_cost(cin, cin, se)
        params, macs = params + p, macs + m
    return params, macs


def build(args: BlockArgs, context: LayerContext) -> nn.Module:
    from ..ops import ConvBnAct, Layer, SqueezeExcite

    cin, act, bn = args.in_filters, context.activation, context.bn
    dw = ConvBnAct(cin, cin, args.kernel, args.stride, groups=cin, activation=act, bn=bn, padding=context.padding)
    se = SqueezeExcite(cin, se_reduced(cin, args.se_ratio), act) if args.has_se else None
    project = ConvBnAct(cin, args.out_filters, 1, activation=act, bn=bn)
    return Layer("separable", [("dw", dw), ("se", se), ("project", project)], order=("dw", "se", "project"),
                 residual=has_residual(args), drop_rate=context.drop_rate)


def node(_args: BlockArgs) -> str:
    return "sepconv"


def widest(args: BlockArgs) -> int:
    return max(args.in_filters, args.out_filters)


KIND = BlockKind(name="separable", label="depthwise-separable conv (MobileNetV1)", prefixes=("dsa",),
                 keys=frozenset({"se", "noskip"}), cost=cost, build=build, node=node, widest=widest)
