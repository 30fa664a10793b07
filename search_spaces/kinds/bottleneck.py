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
from .base import BlockKind, LayerContext, conv_bn, shortcut_cost, total

if TYPE_CHECKING:
    from torch import nn

    from ..blocks import BlockArgs


def cost(cin: int, cout: int, k: int, s: int, e: int, se: float, skip: str, size: int, out: int) -> tuple[int, int]:
    mid, area = cout // e, out * out
    return total(conv_bn(cin, mid, 1, size * size), conv_bn(mid, mid, k, area), conv_bn(mid, cout, 1, area),
                 shortcut_cost(cin, cout, s, skip, area, project_strided=True))


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


def node(args: BlockArgs) -> str:
    return f"bottleneck{args.expand_ratio}"


def widest(args: BlockArgs) -> int:
    return max(args.in_filters, args.out_filters)


KIND = BlockKind(name="bottleneck", label="ResNet bottleneck", prefixes=("bt",), keys=frozenset({"e", "noskip"}),
                 cost=cost, build=build, node=node, widest=widest, check=check, scale_filters=scale_filters,
                 filter_unit=filter_unit)
