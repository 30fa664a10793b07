"""Named architectures as data: base block strings plus a table of variants.

EfficientNet width/depth/resolution/dropout are the official hand-rounded values
(docs/PAPER_FACTS.md, "EfficientNet B0–B7"), not powers of α, β, γ. Nothing here stores a
parameter count or MACs: those are computed.
"""

from __future__ import annotations

import difflib
import re

from .arch import Arch
from .blocks import parse_blocks
from .errors import InputError

EFFICIENTNET_BLOCKS = (
    "r1_k3_s11_e1_i32_o16_se0.25", "r2_k3_s22_e6_i16_o24_se0.25", "r2_k5_s22_e6_i24_o40_se0.25",
    "r3_k3_s22_e6_i40_o80_se0.25", "r3_k5_s11_e6_i80_o112_se0.25", "r4_k5_s22_e6_i112_o192_se0.25",
    "r1_k3_s11_e6_i192_o320_se0.25",
)
MNASNET_A1_BLOCKS = (
    "r1_k3_s11_e1_i32_o16_noskip", "r2_k3_s22_e6_i16_o24", "r3_k5_s22_e3_i24_o40_se0.25",
    "r4_k3_s22_e6_i40_o80", "r2_k3_s11_e6_i80_o112_se0.25", "r3_k5_s22_e6_i112_o160_se0.25",
    "r1_k3_s11_e6_i160_o320",
)
MNASNET_B1_BLOCKS = (
    "r1_k3_s11_e1_i32_o16_noskip", "r3_k3_s22_e3_i16_o24", "r3_k5_s22_e3_i24_o40",
    "r3_k5_s22_e6_i40_o80", "r2_k3_s11_e6_i80_o96", "r4_k5_s22_e6_i96_o192",
    "r1_k3_s11_e6_i192_o320_noskip",
)
# MobileNetV2 (t, c, n, s): the skeleton the MnasNet space is relative to.
MOBILENET_V2_SKELETON = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                         (6, 160, 3, 2), (6, 320, 1, 1))


def _mobilenet_v2_blocks() -> tuple[str, ...]:
    previous, blocks = 32, []
    for t, c, n, s in MOBILENET_V2_SKELETON:
        blocks.append(f"r{n}_k3_s{s}{s}_e{t}_i{previous}_o{c}")
        previous = c
    return tuple(blocks)


# ResNet (He et al. 2016, torchvision's layout): depth → (kind, layers per stage); stages of 64·2^i
# filters (×4 out for bottlenecks), strides 1, 2, 2, 2 after the 7×7 stem and its max pool.
RESNET_DEPTHS = {18: ("rb", (2, 2, 2, 2)), 34: ("rb", (3, 4, 6, 3)), 50: ("bt", (3, 4, 6, 3)),
                 101: ("bt", (3, 4, 23, 3)), 152: ("bt", (3, 8, 36, 3))}
RESNET = dict(stem_filters=64, stem_kernel=7, stem_pool=True, head_filters=0, activation="relu", dropout=0.0,
              drop_connect=0.0, bn_eps=1e-5, bn_momentum=0.1)


def _resnet_blocks(depth: int) -> tuple[str, ...]:
    prefix, layers = RESNET_DEPTHS[depth]
    expansion = 4 if prefix == "bt" else 1
    previous, blocks = 64, []
    for index, repeats in enumerate(layers):
        out, s = 64 * 2 ** index * expansion, 1 if index == 0 else 2
        blocks.append(f"{prefix}_r{repeats}_k3_s{s}{s}" + (f"_e{expansion}" if prefix == "bt" else "")
                      + f"_i{previous}_o{out}")
        previous = out
    return tuple(blocks)


# MobileNetV1 (Howard et al. 2017, Table 1): a 3×3 stem of 32 then 13 depthwise-separable layers, grouped
# into stages of equal layers (the first strides) so that depth scaling repeats them; no head conv.
MOBILENET_V1_BLOCKS = (
    "dsa_r1_k3_s11_i32_o64_noskip", "dsa_r2_k3_s22_i64_o128_noskip", "dsa_r2_k3_s22_i128_o256_noskip",
    "dsa_r6_k3_s22_i256_o512_noskip", "dsa_r2_k3_s22_i512_o1024_noskip",
)
# EfficientNetV2 (Tan & Le 2021, Table 4 for S; torchvision's configurations for S, M, L):
# fused-MBConv early stages, then MBConv with SE 0.25; a 1×1 head of 1280.
EFFICIENTNETV2_BLOCKS = {
    "s": ("er_r2_k3_s11_e1_i24_o24", "er_r4_k3_s22_e4_i24_o48", "er_r4_k3_s22_e4_i48_o64",
          "r6_k3_s22_e4_i64_o128_se0.25", "r9_k3_s11_e6_i128_o160_se0.25", "r15_k3_s22_e6_i160_o256_se0.25"),
    "m": ("er_r3_k3_s11_e1_i24_o24", "er_r5_k3_s22_e4_i24_o48", "er_r5_k3_s22_e4_i48_o80",
          "r7_k3_s22_e4_i80_o160_se0.25", "r14_k3_s11_e6_i160_o176_se0.25", "r18_k3_s22_e6_i176_o304_se0.25",
          "r5_k3_s11_e6_i304_o512_se0.25"),
    "l": ("er_r4_k3_s11_e1_i32_o32", "er_r7_k3_s22_e4_i32_o64", "er_r7_k3_s22_e4_i64_o96",
          "r10_k3_s22_e4_i96_o192_se0.25", "r19_k3_s11_e6_i192_o224_se0.25", "r25_k3_s22_e6_i224_o384_se0.25",
          "r7_k3_s11_e6_i384_o640_se0.25"),
}
# variant: (stem filters, resolution, dropout) — torchvision's evaluation sizes
EFFICIENTNETV2_VARIANTS = {"s": (24, 384, 0.2), "m": (24, 480, 0.3), "l": (32, 480, 0.4)}

# name: (width, depth, resolution, dropout)
EFFICIENTNET_VARIANTS = {
    "efficientnet-b0": (1.0, 1.0, 224, 0.2), "efficientnet-b1": (1.0, 1.1, 240, 0.2),
    "efficientnet-b2": (1.1, 1.2, 260, 0.3), "efficientnet-b3": (1.2, 1.4, 300, 0.3),
    "efficientnet-b4": (1.4, 1.8, 380, 0.4), "efficientnet-b5": (1.6, 2.2, 456, 0.4),
    "efficientnet-b6": (1.8, 2.6, 528, 0.5), "efficientnet-b7": (2.0, 3.1, 600, 0.5),
    "efficientnet-b8": (2.2, 3.6, 672, 0.5), "efficientnet-l2": (4.3, 5.3, 800, 0.5),
}

PRESETS: dict[str, dict] = {
    **{name: dict(blocks=EFFICIENTNET_BLOCKS, width=w, depth=d, resolution=r, dropout=p)
       for name, (w, d, r, p) in EFFICIENTNET_VARIANTS.items()},
    "mnasnet-a1": dict(blocks=MNASNET_A1_BLOCKS, activation="relu", drop_connect=0.0),
    "mnasnet-b1": dict(blocks=MNASNET_B1_BLOCKS, activation="relu", drop_connect=0.0),
    "mobilenet-v2": dict(blocks=_mobilenet_v2_blocks(), activation="relu", drop_connect=0.0),
    "mobilenet-v1": dict(blocks=MOBILENET_V1_BLOCKS, activation="relu", head_filters=0, dropout=0.0,
                         drop_connect=0.0),
    **{f"resnet-{depth}": dict(blocks=_resnet_blocks(depth), **RESNET) for depth in RESNET_DEPTHS},
    **{f"efficientnetv2-{v}": dict(blocks=EFFICIENTNETV2_BLOCKS[v], stem_filters=stem, resolution=r, dropout=p)
       for v, (stem, r, p) in EFFICIENTNETV2_VARIANTS.items()},
}


def preset_names() -> list[str]:
    return list(PRESETS)


def preset(name: str) -> Arch:
    """The named architecture; unknown names are refused with the closest suggestion."""
    key = name.strip().lower()
    resnet = re.fullmatch(r"resnet-?(\d+)", key)
    if resnet and f"resnet-{resnet.group(1)}" in PRESETS:
        key = f"resnet-{resnet.group(1)}"
    elif resnet:
        raise InputError(f"ResNet depth {resnet.group(1)} is not a preset: "
                         f"{', '.join(f'resnet-{d}' for d in RESNET_DEPTHS)}")
    if key not in PRESETS:
        close = difflib.get_close_matches(key, PRESETS, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(PRESETS)}"
        raise InputError(f"unknown architecture {name!r}{hint}")
    spec = dict(PRESETS[key])
    blocks = parse_blocks(list(spec.pop("blocks")))
    return Arch(blocks=blocks, name=key, **spec)
