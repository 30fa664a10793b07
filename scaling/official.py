"""The released EfficientNet B0–B7 beside the pure compound formula (for `effnas family`).

The official table is hand-rounded (B1 has width 1.0, B7 depth 3.1 — docs/PAPER_FACTS.md,
"EfficientNet B0–B7"); its MACs are computed from the presets here, never stored, and compared
with the formula and with 2^φ.
"""

from __future__ import annotations

from typing import Any

from search_spaces import load_arch

from .family import Family

OFFICIAL_BASE = "efficientnet-b0"
OFFICIAL_RANGE = range(0, 8)


def official_comparison(family: Family) -> list[dict[str, Any]]:
    """For a B0-based φ family: one row per integer φ in 0..7 with the released B<φ> and the formula."""
    if family.base.name != OFFICIAL_BASE or family.base != load_arch(OFFICIAL_BASE):
        return []
    base_macs = family.base.cost().macs
    rows = []
    for member in family.members:
        if member.target_macs is not None or member.phi != int(member.phi) or int(member.phi) not in OFFICIAL_RANGE:
            continue
        phi = int(member.phi)
        official = load_arch(f"efficientnet-b{phi}")
        cost = official.cost()
        rows.append({"phi": phi, "official": official.name, "official_width": official.width,
                     "official_depth": official.depth, "official_resolution": official.resolution,
                     "official_macs": cost.macs, "official_params": cost.params,
                     "official_growth": cost.macs / base_macs, "formula_width": member.width,
                     "formula_depth": member.depth, "formula_resolution": member.resolution,
                     "formula_macs": member.macs, "formula_params": member.params,
                     "formula_growth": member.macs / base_macs, "two_to_phi": 2.0 ** phi,
                     "official_over_formula": cost.macs / member.macs})
    return rows
