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
from search_spaces.bounds import MAX_PHI, MAX_RESOLUTION, MAX_SIZE, MIN_RESOLUTION, check_int, check_number
from search_spaces.presets import PRESETS, preset
from search_spaces.readers import read_json_file
from search_spaces.schema import Style, fields_of, read, spec
from search_spaces.units import parse_size

from .coefficients import TOLERANCE, Coefficients, as_coefficients
from .scale import compound_scale
from .targets import fit_target

FAMILY_SCHEMA = "effnas.family/1"


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


def _size(value: Any, what: str) -> None:
    check_int(value, what, 1, MAX_SIZE)


# family.json's schema, declared once: the top level and one member (see the module docstring)
@dataclass(frozen=True)
class FamilyFile:
    base: str | dict = spec(expected="a preset name or an Arch JSON object")
    coefficients: dict = spec(expected="an object with alpha, beta, gamma",
                              check=lambda v, what: _need(set(v) == {"alpha", "beta", "gamma"},
                                                          f"{what} must be an object with alpha, beta, gamma"))
    members: list = spec(expected="a non-empty list", check=lambda v, what: _need(bool(v), f"{what} must be "
                                                                                    "a non-empty list"))


@dataclass(frozen=True)
class MemberFile:
    phi: float = spec(check=lambda v, what: check_number(v, what, -MAX_PHI, MAX_PHI))
    target_macs: int | None = spec(check=_size)  # null for a φ member
    macs: int = spec(check=_size)
    params: int = spec(check=_size)
    width: float = spec()
    depth: float = spec()
    resolution: int = spec(check=lambda v, what: check_int(v, what, MIN_RESOLUTION, MAX_RESOLUTION))
    arch: dict = spec()


MEMBER_KEYS = tuple(fields_of(MemberFile))
_EXACT = "{where} must have exactly the keys {known}"
_MEMBER = Style(unknown=_EXACT, missing=_EXACT)


def family_from_dict(data: Any, source: str = "family") -> Family:
    """Validate a family.json object (schema, keys, types, costs) and build the Family."""
    _need(isinstance(data, dict), f"{source}: family JSON must be an object")
    _need(data.get("schema") == FAMILY_SCHEMA,
          f"{source}: schema is {data.get('schema')!r}, expected {FAMILY_SCHEMA!r}")
    top = read(FamilyFile, data, source, extra=("schema",))
    base = top["base"]
    base_arch = preset(base) if isinstance(base, str) else Arch.from_dict(base, where=f"{source}: base")
    try:
        coefficients = as_coefficients(top["coefficients"])
    except InputError as error:
        raise InputError(f"{source}: {error}") from None
    loaded = [_load_member(item, f"{source}: member {index}") for index, item in enumerate(top["members"])]
    return Family(base=base_arch, coefficients=coefficients, members=tuple(loaded))


def _load_member(item: Any, where: str) -> Member:
    """One member of family.json: its fields, and its arch reloading to exactly its recorded costs."""
    _need(isinstance(item, dict), f"{where} must have exactly the keys {', '.join(MEMBER_KEYS)}")
    fields = read(MemberFile, item, where, _MEMBER)
    arch = Arch.from_dict(fields["arch"], where=f"{where}: arch")
    cost = arch.cost()
    _need(cost.macs == fields["macs"] and cost.params == fields["params"],
          f"{where}: arch gives {cost.macs} MACs / {cost.params} params, the file says "
          f"{fields['macs']} / {fields['params']}")
    _need((fields["width"], fields["depth"], fields["resolution"]) == (arch.width, arch.depth, arch.resolution),
          f"{where}: width/depth/resolution disagree with its arch")
    return Member(phi=float(fields["phi"]), target_macs=fields["target_macs"], macs=cost.macs, params=cost.params,
                  arch=arch)


def load_family(path: str | os.PathLike) -> Family:
    """Read and validate a family.json (see module docstring); problems raise InputError."""
    return family_from_dict(read_json_file(path, "family"), source=str(path))
