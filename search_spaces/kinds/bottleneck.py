"""ResNet's bottleneck block (He et al. 2016; torchvision's Bottleneck, "ResNet v1.5": the stride on
the k×k conv; ``bt_``): 1×1 conv to the bottleneck width + BN + act → k×k conv (the stride) + BN +
act → 1×1 conv to the output + BN, added to the shortcut (ResNet's: identity, or a strided 1×1
projection + BN where the shape changes; ``noskip`` drops it), then the activation.

``e`` is the expansion: bottleneck width = output filters / e (torchvision's 4). Width scaling
rounds the *bottleneck* width (round_filters) and multiplies it back by e, so every scaled stage
keeps an integer bottleneck; filter counts step by divisor · e.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..rounding import round_filters
from .base import BlockKind, LayerContext, projection_cost

if TYPE_CHECKING:
    from torch import nn

    from ..blocks import BlockArgs


def cost(cin: int, cout: int, k: int, s: int, e: int, se: float, skip: str, size: int, out: int) -> tuple[int, int]:
    mid, area = cout // e, out * out
    params = cin * mid + 2 * mid + k * k * mid * mid + 2 * mid + mid * cout + 2 * cout   # 1×1, k×k, 1×1 + BN
    macs = size * size * cin * mid + area * (k * k * mid * mid + mid * cout)           # the stride on the k×k
    if skip != "none" and (s != 1 or cin != cout):                                       # projection + BN
        p, m = projection_cost(cin, cout, area)
        params, macs = params + p, macs + m
    return params, macs


def build(args: BlockArgs, context: LayerContext) -> nn.Module:
    from ..ops import ConvBnAct, Layer, make_activation, projection

    cin, cout, act, bn = args.in_filters, args.out_filters, context.activation, context.bn
    mid = cout // args.expand_ratio
    conv1 = ConvBnAct(cin, mid, 1, activation=act, bn=bn)
    conv2 = ConvBnAct(mid, mid, args.kernel, args.stride, activation=act, bn=bn, padding=context.padding)
    conv3 = ConvBnAct(mid, cout, 1, activation=None, bn=bn)
    return Layer("bottleneck", [("conv1", conv1), ("conv2", conv2), ("conv3", conv3)],
                 order=("conv1", "conv2", "conv3"), residual=args.skip != "none", shortcut=projection(args, bn),
                 post=make_activation(act), drop_rate=context.drop_rate)


def check(args: BlockArgs) -> str:
    if args.out_filters % args.expand_ratio:
        return (f"a bottleneck's expansion e{args.expand_ratio} must divide its {args.out_filters} output filters "
                "(bottleneck width = output / e)")
    return ""


def scale_filters(args: BlockArgs, width: float, divisor: int) -> int:
    """round_filters on the bottleneck width, times the expansion."""
    return round_filters(args.out_filters // args.expand_ratio, width, divisor) * args.expand_ratio


def filter_unit(args: BlockArgs, divisor: int) -> int:
    return divisor * args.expand_ratio


def torchvision(_args: BlockArgs) -> list[tuple[str, str]]:
    return [(f"{conv}{i}", f"conv{i}.{part}") for i in (1, 2, 3) for conv, part in (("conv", "conv"), ("bn", "bn"))] \
        + [("downsample.0", "shortcut.conv"), ("downsample.1", "shortcut.bn")]


def node(args: BlockArgs) -> str:
    return f"bottleneck{args.expand_ratio}"


def widest(args: BlockArgs) -> int:
    return max(args.in_filters, args.out_filters)


KIND = BlockKind(name="bottleneck", label="ResNet bottleneck", prefixes=("bt",), keys=frozenset({"e", "noskip"}),
                 cost=cost, build=build, node=node, widest=widest, check=check, scale_filters=scale_filters,
                 filter_unit=filter_unit, torchvision=torchvision)
