"""Backbones for detectors: presets, Arch records, family members; features at strides 8/16/32.

A backbone is anything that resolves to an :class:`~search_spaces.Arch`: an Arch, a preset name,
an arch dict (schema "effnas.arch/1"), a family member dict (``{"arch": {...}, ...}`` from a
``family.json`` of schema "effnas.family/1", or a :class:`scaling.Member`), or "PRESET@phiφ" — the
preset compound-scaled by φ with :func:`scaling.compound_scale` (depth 1.2^φ, width 1.1^φ,
EfficientNet's coefficients; the detector sets its own input size). The backbone is built
features-only (stem and stages, no 1×1 head conv, pool or fc: :func:`search_spaces.builder.build_features`);
the detector reads the last stage output at each reduction of :data:`REQUIRED_STRIDES`, found by
:func:`pyramid_stages` in the stages' reductions (the built model's ``feature_info``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from scaling import compound_scale
from search_spaces import Arch, InputError, load_arch

from .configs import DetConfig, get_config

if TYPE_CHECKING:  # torch only where the backbone is built
    from torch import nn

REQUIRED_STRIDES = (8, 16, 32)  # EfficientDet: C3, C4, C5 (P6… are made from C5), the backbone ending at C5


def resolve_backbone(source: Any) -> Arch:
    """An Arch from any backbone form above; refuses archs without the maps of REQUIRED_STRIDES."""
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
    pyramid_stages(arch.feature_strides, arch.name)
    return arch


def resolve_detector(spec: str | float | DetConfig = "d0", backbone: Any = None,
                     num_classes: int = DetConfig.num_classes,
                     **overrides: Any) -> tuple[DetConfig, Arch]:
    """The config and backbone Arch (at the config's image size) that ``efficientdet`` builds, no torch."""
    config = spec if isinstance(spec, DetConfig) else get_config(spec)
    config = config.with_(num_classes=num_classes, **overrides)
    arch = resolve_backbone(config.backbone if backbone is None else backbone)
    if backbone is not None:
        config = config.with_(backbone=arch.name)
    return config, arch.with_(resolution=config.image_size)


def pyramid_stages(reductions: Sequence[int], name: str) -> tuple[int, ...]:
    """Indices of the stage outputs a detector reads (stage reductions given first stage first): the last
    stage at each reduction of REQUIRED_STRIDES. InputError unless all are there and the last one ends it."""
    top = REQUIRED_STRIDES[-1]
    missing = [s for s in REQUIRED_STRIDES if s not in reductions]
    if missing or max(reductions) != top:
        raise InputError(f"backbone {name!r} must end at stride {top} with features at strides "
                         f"{'/'.join(map(str, REQUIRED_STRIDES))}; its stages reach strides {sorted(set(reductions))}")
    last = {reduction: index for index, reduction in enumerate(reductions)}
    return tuple(last[s] for s in REQUIRED_STRIDES)


def build_backbone(arch: Arch) -> tuple[nn.Module, list[int]]:
    """The features-only model of `arch` returning the maps of :func:`pyramid_stages`, and their channels."""
    from search_spaces.builder import build_features, feature_info

    stages = pyramid_stages([info.reduction for info in feature_info(arch)], arch.name)
    model = build_features(arch, out_indices=stages)
    return model, [model.feature_info[i].channels for i in model.out_indices]
