"""EfficientDet configurations: the released D0–D7x table and the compound-scaling formulas.

Formulas (EfficientDet §4.2, Eq. 1–3) for any φ ≥ 0:
  W_bifpn = 64 · 1.35^φ rounded to the nearest multiple of 8,  D_bifpn = 3 + φ,
  D_box = D_class = 3 + ⌊φ/3⌋,  R_input = 512 + 128 · φ (rounded to a multiple of 128).
The released configs (automl ``hparams_config.py``) are configuration inputs and are tabulated
as such; they follow the formulas only approximately (e.g. D2 W = 112 where the formula gives
120, D4 224 vs 216; D6+ use plain-sum fusion, D7 anchor scale 5, D7x P3–P8 and anchor scale 4).
No parameter count or MACs is stored here: see :mod:`detectors.cost`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from search_spaces import InputError

from .anchors import ASPECT_RATIOS
from .topology import TOPOLOGIES

FUSIONS = ("fastattn", "attn", "sum")  # see detectors.fusion


@dataclass(frozen=True)
class DetConfig:
    """One detector: input size (pixels), backbone preset, feature-network and head sizes."""

    name: str
    image_size: int
    backbone: str
    fpn_filters: int
    fpn_repeats: int
    head_repeats: int
    fusion: str = "fastattn"
    topology: str = "bifpn"
    min_level: int = 3
    max_level: int = 7
    anchor_scale: float = 4.0
    num_scales: int = 3
    aspect_ratios: tuple[tuple[float, float], ...] = field(default=ASPECT_RATIOS)
    num_classes: int = 90
    phi: float | None = None

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise InputError(f"unknown fusion {self.fusion!r}; known: {', '.join(FUSIONS)}")
        if self.topology not in TOPOLOGIES:
            raise InputError(f"unknown feature network {self.topology!r}; known: {', '.join(TOPOLOGIES)}")
        if self.min_level != 3 or not 5 <= self.max_level <= 10:
            raise InputError(f"levels must run from P3 to P5..P10, got P{self.min_level}..P{self.max_level}")
        for key in ("fpn_filters", "fpn_repeats", "head_repeats", "num_classes", "num_scales"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"{key} must be a positive whole number, got {value!r}")
        if not self.anchor_scale > 0:
            raise InputError(f"anchor_scale must be positive, got {self.anchor_scale!r}")
        if self.image_size % self.size_multiple:
            raise InputError(f"image size {self.image_size} is not a multiple of "
                             f"2^{self.max_level} = {self.size_multiple}")

    @property
    def size_multiple(self) -> int:
        """Input sides must be multiples of 2^max_level (the coarsest stride)."""
        return 2 ** self.max_level

    @property
    def num_anchors(self) -> int:
        return self.num_scales * len(self.aspect_ratios)

    def with_(self, **changes: Any) -> DetConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "phi": self.phi, "image_size": self.image_size, "backbone": self.backbone,
                "fpn_filters": self.fpn_filters, "fpn_repeats": self.fpn_repeats, "head_repeats": self.head_repeats,
                "fusion": self.fusion, "topology": self.topology, "min_level": self.min_level,
                "max_level": self.max_level, "anchor_scale": self.anchor_scale, "num_scales": self.num_scales,
                "aspect_ratios": [list(a) for a in self.aspect_ratios], "num_classes": self.num_classes}


@dataclass(frozen=True, kw_only=True)
class ReleasedConfig:
    """One released detector as automl's ``efficientdet_model_param_dict`` lists it: the fields that
    differ from the defaults (automl's name in brackets; the names are :class:`DetConfig`'s)."""

    phi: int                    # compound coefficient φ
    image_size: int             # [image_size] input side R_input, pixels
    backbone: str               # [backbone_name]
    fpn_filters: int            # [fpn_num_filters] W_bifpn
    fpn_repeats: int            # [fpn_cell_repeats] D_bifpn
    head_repeats: int           # [box_class_repeats] D_box = D_class
    fusion: str = "fastattn"    # [fpn_weight_method]
    anchor_scale: float = 4.0   # [anchor_scale]
    max_level: int = 7          # [max_level]


RELEASED: dict[str, ReleasedConfig] = {  # automl hparams_config.py
    "d0": ReleasedConfig(phi=0, image_size=512, backbone="efficientnet-b0", fpn_filters=64, fpn_repeats=3,
                         head_repeats=3),
    "d1": ReleasedConfig(phi=1, image_size=640, backbone="efficientnet-b1", fpn_filters=88, fpn_repeats=4,
                         head_repeats=3),
    "d2": ReleasedConfig(phi=2, image_size=768, backbone="efficientnet-b2", fpn_filters=112, fpn_repeats=5,
                         head_repeats=3),
    "d3": ReleasedConfig(phi=3, image_size=896, backbone="efficientnet-b3", fpn_filters=160, fpn_repeats=6,
                         head_repeats=4),
    "d4": ReleasedConfig(phi=4, image_size=1024, backbone="efficientnet-b4", fpn_filters=224, fpn_repeats=7,
                         head_repeats=4),
    "d5": ReleasedConfig(phi=5, image_size=1280, backbone="efficientnet-b5", fpn_filters=288, fpn_repeats=7,
                         head_repeats=4),
    "d6": ReleasedConfig(phi=6, image_size=1280, backbone="efficientnet-b6", fpn_filters=384, fpn_repeats=8,
                         head_repeats=5, fusion="sum"),
    "d7": ReleasedConfig(phi=7, image_size=1536, backbone="efficientnet-b6", fpn_filters=384, fpn_repeats=8,
                         head_repeats=5, fusion="sum", anchor_scale=5.0),
    "d7x": ReleasedConfig(phi=7, image_size=1536, backbone="efficientnet-b7", fpn_filters=384, fpn_repeats=8,
                          head_repeats=5, fusion="sum", max_level=8),
}


def released(name: str) -> DetConfig:
    key = name.strip().lower().removeprefix("efficientdet-")
    if key not in RELEASED:
        raise InputError(f"unknown detector {name!r}; known: {', '.join(RELEASED)} or a phi >= 0")
    return DetConfig(f"efficientdet-{key}", **asdict(RELEASED[key]))


def bifpn_width(phi: float) -> int:
    """W = 64 · 1.35^φ to the nearest multiple of 8 (at least 8)."""
    return max(8, int(math.floor(64 * 1.35 ** phi / 8 + 0.5)) * 8)


def from_phi(phi: float) -> DetConfig:
    """The formula config for compound coefficient φ.

    Backbone: efficientnet-bφ for integer φ ≤ 7, otherwise B0 compound-scaled by φ
    ("efficientnet-b0@phiφ": width 1.1^φ, depth 1.2^φ; see :mod:`detectors.backbone`).
    """
    if isinstance(phi, bool) or not isinstance(phi, int | float) or not math.isfinite(phi) or phi < 0:
        raise InputError(f"phi must be a number >= 0, got {phi!r}")
    if phi > 12:
        raise InputError(f"phi {phi} is beyond the supported range 0..12")
    size = int(math.floor((512 + 128 * phi) / 128 + 0.5)) * 128
    integral = float(phi).is_integer()
    backbone = f"efficientnet-b{int(phi)}" if integral and phi <= 7 else f"efficientnet-b0@phi{phi:g}"
    name = f"efficientdet-phi{phi:g}"
    return DetConfig(name, size, backbone, bifpn_width(phi), 3 + math.floor(phi), 3 + math.floor(phi / 3),
                     phi=float(phi))


def get_config(spec: str | float, **overrides: Any) -> DetConfig:
    """A config from a released name ("d0"…"d7x") or a φ (number or numeric string)."""
    if isinstance(spec, str):
        text = spec.strip()
        try:
            value = float(text)
        except ValueError:
            config = released(text)
        else:
            config = from_phi(value)
    else:
        config = from_phi(spec)
    return config.with_(**overrides) if overrides else config
