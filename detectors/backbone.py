"""Backbones for detectors: presets, Arch records, family members; features at strides 8/16/32.

A backbone is anything that resolves to an :class:`~search_spaces.Arch`: an Arch, a preset name,
an arch dict (schema "effnas.arch/1"), a family member dict (``{"arch": {...}, ...}`` from a
``family.json`` of schema "effnas.family/1", or a :class:`scaling.Member`), or "PRESET@phiφ" — the
preset compound-scaled by φ with :func:`scaling.compound_scale` (depth 1.2^φ, width 1.1^φ,
EfficientNet's coefficients; the detector sets its own input size). The classifier head
(1×1 conv to 1280·w, pool, fc) is removed: detectors use the stride-8/16/32 maps only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scaling import compound_scale
from search_spaces import Arch, InputError, load_arch

from .configs import DetConfig, get_config

if TYPE_CHECKING:  # torch only where the backbone is built
    from torch import nn

REQUIRED_STRIDES = (8, 16, 32)


def resolve_backbone(source: Any) -> Arch:
    """An Arch from any backbone form above; refuses archs without maps at strides 8/16/32."""
    if isinstance(getattr(source, "arch", None), Arch):   # scaling.Member
        source = source.arch
    if isinstance(source, Arch):
        arch = source
    elif isinstance(source, dict):
        data = source.get("arch", source) if "blocks" not in source else source
        if not isinstance(data, dict):
            raise InputError("family member has no 'arch' object")
        arch = Arch.from_dict(data)
    elif isinstance(source, str) and "@phi" in source:
        name, _, phi_text = source.partition("@phi")
        try:
            phi = float(phi_text)
        except ValueError:
            raise InputError(f"bad backbone spec {source!r}; expected NAME@phiNUMBER") from None
        arch = compound_scale(load_arch(name), phi).with_(name=source)
    elif isinstance(source, str):
        arch = load_arch(source)
    else:
        raise InputError(f"cannot use {source!r} as a detector backbone")
    check_strides(arch)
    return arch


def resolve_detector(spec: str | float | DetConfig = "d0", backbone: Any = None, num_classes: int = 90,
                     **overrides: Any) -> tuple[DetConfig, Arch]:
    """The config and backbone Arch (at the config's image size) that ``efficientdet`` builds, no torch."""
    config = spec if isinstance(spec, DetConfig) else get_config(spec)
    config = config.with_(num_classes=num_classes, **overrides)
    arch = resolve_backbone(config.backbone if backbone is None else backbone)
    if backbone is not None:
        config = config.with_(backbone=arch.name)
    return config, arch.with_(resolution=config.image_size)


def check_strides(arch: Arch) -> None:
    strides = arch.feature_strides
    missing = [s for s in REQUIRED_STRIDES if s not in strides]
    if missing or max(strides) != 32:
        raise InputError(f"backbone {arch.name!r} must end at stride 32 with features at strides 8/16/32; "
                         f"its stages reach strides {sorted(set(strides))}")


def build_backbone(arch: Arch) -> tuple[nn.Module, list[int]]:
    """The feature extractor (classifier head removed) and its channels at strides 8, 16, 32."""
    model = arch.build()
    model.head = None
    model.dropout = None
    model.classifier = None
    return model, [model.feature_channels[s] for s in REQUIRED_STRIDES]
