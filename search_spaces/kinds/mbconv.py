"""MBConv: the inverted bottleneck of MobileNetV2 / MnasNet / EfficientNet (TF ``ir_``, the default kind).

1×1 expand (absent at expansion 1, where the layer *is* the depthwise-separable conv of MnasNet's
space) → k×k depthwise (the stride) → SE on the expanded map (bottleneck from the block input) →
1×1 linear projection; skips: identity where the shape is kept, ``pool`` (average pool + 1×1),
``none``. Parameter names follow efficientnet_pytorch's blocks (expand, dw, se, project).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import (
    BlockKind,
    LayerContext,
    keeps_shape,
    se_and_pool_skip_cost,
    se_reduced,
    torchvision_sequence,
)

if TYPE_CHECKING:
    from torch import nn

    from ..blocks import BlockArgs


def cost(cin: int, cout: int, k: int, s: int, e: int, se: float, skip: str, size: int, out: int) -> tuple[int, int]:
    # plain arithmetic (the cost model's inner loop); SE and the pooled skip from kinds/base.py
    mid, area = cin * e, out * out
    params = k * k * mid + 2 * mid + mid * cout + 2 * cout           # depthwise + BN, projection + BN
    macs = area * (k * k * mid + mid * cout)
    if e != 1:                                                       # 1×1 expand + BN, on the input map
        params += cin * mid + 2 * mid
        macs += size * size * cin * mid
    p, m = se_and_pool_skip_cost(mid, cin, cout, se, skip, area)   # SE on the expanded map; the pooled skip
    return params + p, macs + m


def has_residual(args: BlockArgs) -> bool:
    """The MnasNet-space rule: identity where the shape is kept; ``pool`` always; ``none`` never."""
    return args.skip == "identity" and keeps_shape(args.in_filters, args.out_filters, args.stride) \
        or args.skip == "pool"


def build(args: BlockArgs, context: LayerContext) -> nn.Module:
    from ..ops import ConvBnAct, Layer, SqueezeExcite, pool_shortcut

    cin, act, bn = args.in_filters, context.activation, context.bn
    mid = cin * args.expand_ratio
    # constructed in this order (expand, dw, project, se, shortcut): it fixes the random draws of a seed
    expand = ConvBnAct(cin, mid, 1, activation=act, bn=bn) if args.expand_ratio != 1 else None
    dw = ConvBnAct(mid, mid, args.kernel, args.stride, groups=mid, activation=act, bn=bn, padding=context.padding)
    project = ConvBnAct(mid, args.out_filters, 1, activation=None, bn=bn)
    se = SqueezeExcite(mid, se_reduced(cin, args.se_ratio), act) if args.has_se else None
    return Layer("mbconv", [("expand", expand), ("dw", dw), ("project", project), ("se", se)],
                 order=("expand", "dw", "se", "project"), residual=has_residual(args),
                 shortcut=pool_shortcut(args, bn), drop_rate=context.drop_rate)


def torchvision(args: BlockArgs) -> list[tuple[str, str]]:
    return torchvision_sequence((["expand"] if args.expand_ratio != 1 else []) + ["dw", "se", "project"])


def node(args: BlockArgs) -> str:
    return "dsconv" if args.expand_ratio == 1 else f"mbconv{args.expand_ratio}"


def widest(args: BlockArgs) -> int:
    """The expanded width: input (or, for repeats, the larger of input and output) × expansion."""
    return (max(args.in_filters, args.out_filters) if args.repeats > 1 else args.in_filters) * args.expand_ratio


KIND = BlockKind(name="mbconv", label="MBConv", prefixes=("", "ir", "ds", "mb"),
                 keys=frozenset({"e", "se", "noskip", "poolskip"}), cost=cost, build=build, node=node, widest=widest,
                 torchvision=torchvision)
