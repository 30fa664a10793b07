"""A regular k×k convolution + BN + activation (TF ``cn_``; MnasNet's "regular conv" choice), SE on
its output (bottleneck from the block input), the MnasNet-space skips (see mbconv.has_residual).
Its conv is named ``dw`` so that a layer's strided conv has one name across the space's kinds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import BlockKind, LayerContext, se_and_pool_skip_cost, se_reduced
from .mbconv import has_residual

if TYPE_CHECKING:
    from torch import nn

    from ..blocks import BlockArgs


def cost(cin: int, cout: int, k: int, s: int, e: int, se: float, skip: str, size: int, out: int) -> tuple[int, int]:
    area = out * out
    params, macs = k * k * cin * cout + 2 * cout, area * k * k * cin * cout
    p, m = se_and_pool_skip_cost(cout, cin, cout, se, skip, area)   # SE on the output; the pooled skip
    return params + p, macs + m


def build(args: BlockArgs, context: LayerContext) -> nn.Module:
    from ..ops import ConvBnAct, Layer, SqueezeExcite, pool_shortcut

    cout, act = args.out_filters, context.activation
    conv = ConvBnAct(args.in_filters, cout, args.kernel, args.stride, activation=act, bn=context.bn,
                     padding=context.padding)
    se = SqueezeExcite(cout, se_reduced(args.in_filters, args.se_ratio), act) if args.has_se else None
    return Layer("conv", [("dw", conv), ("se", se)], order=("dw", "se"), residual=has_residual(args),
                 shortcut=pool_shortcut(args, context.bn), drop_rate=context.drop_rate)


def node(_args: BlockArgs) -> str:
    return "conv"


def widest(args: BlockArgs) -> int:
    return max(args.in_filters, args.out_filters)


KIND = BlockKind(name="conv", label="regular conv", prefixes=("cn",), keys=frozenset({"se", "noskip", "poolskip"}),
                 cost=cost, build=build, node=node, widest=widest)
