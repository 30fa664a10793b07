"""scaling: EfficientNet compound scaling — coefficients and the α·β²·γ² ≈ 2 constraint,
compound_scale(arch, φ), MACs-target members, step-2 families (family.json) and the step-1 grid."""

from .coefficients import PAPER, Coefficients, load_coefficients, parse_coefficients
from .family import FAMILY_SCHEMA, Family, Member, family_from_dict, load_family, make_family
from .scale import compound_scale, scale
from .targets import TargetFit, fit_target, smallest_macs

__all__ = [
    "FAMILY_SCHEMA", "PAPER", "Coefficients", "Family", "Member", "TargetFit", "compound_scale", "family_from_dict",
    "fit_target", "load_coefficients", "load_family", "make_family", "parse_coefficients", "scale", "smallest_macs",
]
