"""Named architectures as data: base block strings plus a table of variants.

EfficientNet width/depth/resolution/dropout are the official hand-rounded values
(docs/PAPER_FACTS.md, "EfficientNet B0–B7"), not powers of α, β, γ. Nothing here stores a
parameter count or MACs: those are computed.
"""

from __future__ import annotations

import difflib

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
}


def preset_names() -> list[str]:
    return list(PRESETS)


def preset(name: str) -> Arch:
    """The named architecture; unknown names are refused with the closest suggestion."""
    key = name.strip().lower()
    if key not in PRESETS:
        close = difflib.get_close_matches(key, PRESETS, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(PRESETS)}"
        raise InputError(f"unknown architecture {name!r}{hint}")
    spec = dict(PRESETS[key])
    blocks = parse_blocks(list(spec.pop("blocks")))
    return Arch(blocks=blocks, name=key, **spec)
