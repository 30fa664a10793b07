"""Step 2 of compound scaling: a family of members for φ values or MACs targets, as family.json.

family.json (schema "effnas.family/1", what the detector builders consume)::

    {"schema": "effnas.family/1", "base": <preset name or Arch JSON>,
     "coefficients": {"alpha", "beta", "gamma"},
     "members": [{"phi", "target_macs" (or null), "macs", "params", "width", "depth",
                  "resolution", "arch": <Arch JSON>}]}

Every member's `arch` reloads (load_arch / Arch.from_dict) to exactly its `macs` and `params`;
`load_family` checks that, and the schema, and refuses anything else with InputError.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from search_spaces import Arch, InputError, load_arch
from search_spaces.bounds import MAX_PHI, MAX_SIZE, check_int, check_number
from search_spaces.presets import PRESETS, preset
from search_spaces.readers import read_json_file
from search_spaces.units import parse_size

from .coefficients import TOLERANCE, Coefficients, as_coefficients
from .scale import compound_scale
from .targets import fit_target

FAMILY_SCHEMA = "effnas.family/1"
MEMBER_KEYS = ("phi", "target_macs", "macs", "params", "width", "depth", "resolution", "arch")


@dataclass(frozen=True)
class Member:
    """One scaled network. macs/params: analytic counts of `arch` at its own resolution."""

    phi: float
    target_macs: int | None
    macs: int
    params: int
    arch: Arch

    @property
    def width(self) -> float:
        return self.arch.width

    @property
    def depth(self) -> float:
        return self.arch.depth

    @property
    def resolution(self) -> int:
        return self.arch.resolution

    @property
    def error(self) -> float | None:
        """(macs − target) / target, or None for a φ member."""
        return None if self.target_macs is None else (self.macs - self.target_macs) / self.target_macs

    def to_dict(self) -> dict[str, Any]:
        return {"phi": self.phi, "target_macs": self.target_macs, "macs": self.macs, "params": self.params,
                "width": self.width, "depth": self.depth, "resolution": self.resolution, "arch": self.arch.to_dict()}


@dataclass(frozen=True)
class Family:
    """A base, its coefficients and the scaled members (in the order asked for)."""

    base: Arch
    coefficients: Coefficients
    members: tuple[Member, ...]

    def __iter__(self) -> Iterator[Member]:
        return iter(self.members)

    def __len__(self) -> int:
        return len(self.members)

    def __getitem__(self, index: int) -> Member:
        return self.members[index]

    def to_dict(self) -> dict[str, Any]:
        return {"schema": FAMILY_SCHEMA, "base": base_reference(self.base),
                "coefficients": self.coefficients.as_dict(), "members": [m.to_dict() for m in self.members]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def base_reference(base: Arch) -> str | dict[str, Any]:
    """The preset name when `base` is exactly that preset, else its Arch JSON."""
    if base.name in PRESETS and preset(base.name) == base:
        return base.name
    return base.to_dict()


def _member(phi: float, target: int | None, arch: Arch) -> Member:
    cost = arch.cost()
    return Member(phi=phi, target_macs=target, macs=cost.macs, params=cost.params, arch=arch)


def make_family(base: Arch | str, phis: Sequence[float] | None = None, targets: Sequence[int | str] | None = None,
                coefficients: Coefficients | dict | Sequence[float] | str | None = None, *,
                allow_any: bool = False, tolerance: float = TOLERANCE) -> Family:
    """Members of `base` at each φ (pure compound formula) or nearest to each MACs target.

    Exactly one of `phis` / `targets` (sizes like "600M" accepted). Coefficients default to the
    paper's α = 1.2, β = 1.1, γ = 1.15 and must satisfy the constraint unless `allow_any`.
    """
    base = load_arch(base)
    coefficients = as_coefficients(coefficients).check(allow_any, tolerance)
    if (phis is None) == (targets is None):
        raise InputError("give either phis or targets (exactly one)")
    members: list[Member] = []
    if phis is not None:
        if not len(phis):
            raise InputError("no phi values given")
        for phi in phis:
            arch = compound_scale(base, phi, coefficients=coefficients, allow_any=True)
            members.append(_member(float(phi), None, arch))
    else:
        if not len(targets):
            raise InputError("no MACs targets given")
        for target in targets:
            fit = fit_target(base, parse_size(target, "MACs target"), coefficients, allow_any=True)
            members.append(_member(fit.phi, fit.target, fit.arch))
    return Family(base=base, coefficients=coefficients, members=tuple(members))


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def family_from_dict(data: Any, source: str = "family") -> Family:
    """Validate a family.json object (schema, keys, types, costs) and build the Family."""
    _need(isinstance(data, dict), f"{source}: family JSON must be an object")
    _need(data.get("schema") == FAMILY_SCHEMA,
          f"{source}: schema is {data.get('schema')!r}, expected {FAMILY_SCHEMA!r}")
    unknown = sorted(set(data) - {"schema", "base", "coefficients", "members"})
    _need(not unknown, f"{source}: unknown keys {unknown}")
    base = data.get("base")
    _need(isinstance(base, str | dict), f"{source}: 'base' must be a preset name or an Arch JSON object")
    base_arch = preset(base) if isinstance(base, str) else Arch.from_dict(base, where=f"{source}: base")
    coefficients = data.get("coefficients")
    _need(isinstance(coefficients, dict) and set(coefficients) == {"alpha", "beta", "gamma"},
          f"{source}: 'coefficients' must be an object with alpha, beta, gamma")
    try:
        coefficients = as_coefficients(coefficients)
    except InputError as error:
        raise InputError(f"{source}: {error}") from None
    members = data.get("members")
    _need(isinstance(members, list) and members, f"{source}: 'members' must be a non-empty list")
    loaded = []
    for index, item in enumerate(members):
        where = f"{source}: member {index}"
        _need(isinstance(item, dict) and set(item) == set(MEMBER_KEYS),
              f"{where} must have exactly the keys {', '.join(MEMBER_KEYS)}")
        phi = check_number(item["phi"], f"{where}: phi", -MAX_PHI, MAX_PHI)
        target = item["target_macs"]
        if target is not None:
            check_int(target, f"{where}: target_macs (or null)", 1, MAX_SIZE)
        for key in ("macs", "params", "resolution"):
            _need(_is_int(item[key]) and item[key] > 0, f"{where}: {key!r} must be a positive integer")
        arch = Arch.from_dict(item["arch"], where=f"{where}: arch")
        cost = arch.cost()
        _need(cost.macs == item["macs"] and cost.params == item["params"],
              f"{where}: arch gives {cost.macs} MACs / {cost.params} params, the file says "
              f"{item['macs']} / {item['params']}")
        _need((item["width"], item["depth"], item["resolution"]) == (arch.width, arch.depth, arch.resolution),
              f"{where}: width/depth/resolution disagree with its arch")
        loaded.append(Member(phi=float(phi), target_macs=target, macs=cost.macs, params=cost.params, arch=arch))
    return Family(base=base_arch, coefficients=coefficients, members=tuple(loaded))


def load_family(path: str | os.PathLike) -> Family:
    """Read and validate a family.json (see module docstring); problems raise InputError."""
    return family_from_dict(read_json_file(path, "family"), source=str(path))
