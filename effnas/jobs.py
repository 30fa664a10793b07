"""JOB.toml: a pipeline job (search → grid → family → detectors) as a validated record.

Every section is optional except ``[job]``; a stage whose section is missing is skipped and its
input comes from the next stage's explicit setting (e.g. ``[grid] base = "efficientnet-b0"``).
Unknown keys, wrong types and impossible values raise InputError naming the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search_spaces import InputError
from search_spaces.bounds import MAX_CLASSES, MAX_TRIALS, check_int, check_seed, check_trials
from search_spaces.readers import parse_toml_text, read_text_file
from search_spaces.units import parse_size

from .runfolder import named_folder, run_folder, run_name

STAGES = ("search", "grid", "family", "detectors")

# section -> key -> (accepted types, default); `None` default means optional/absent
SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], Any]]] = {
    "job": {"name": ((str,), None), "out": ((str,), None), "runner": ((str,), "ray"),
            "ray_address": ((str,), None), "max_concurrent": ((int,), None), "seed": ((int,), 0)},
    "search": {"preset": ((str,), None), "target": ((str, int, float), None), "objective": ((str,), None),
               "reward": ((str,), None), "strategy": ((str,), None), "evaluator": ((str,), None),
               "trials": ((int,), None), "data": ((str,), None), "seed": ((int,), None),
               "evaluator_config": ((dict,), None), "synchronous": ((bool,), None), "generation": ((int,), None),
               "band": ((int, float), None)},
    "grid": {"base": ((str,), None), "evaluator": ((str,), "proxy"), "phi": ((int, float), 1.0),
             "step": ((int, float), 0.05), "coefficients": ((list,), None), "evaluator_config": ((dict,), None),
             "single_dimension": ((bool,), True), "levels": ((list,), None), "match_macs": ((bool,), False)},
    "family": {"base": ((str,), None), "phis": ((list,), None), "targets": ((list,), None),
               "coefficients": ((list,), None)},
    "detectors": {"members": ((str, list), "all"), "num_classes": ((int,), 90), "fpn": ((str,), "bifpn")},
}


@dataclass(frozen=True)
class Job:
    """A parsed JOB.toml. `sections[stage]` is None for a stage the job skips."""

    path: Path
    name: str
    out: Path
    runner: str = "ray"
    ray_address: str | None = None
    max_concurrent: int | None = None
    seed: int = 0
    sections: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def stages(self) -> list[str]:
        return [s for s in STAGES if self.sections.get(s) is not None]

    def section(self, stage: str) -> dict[str, Any]:
        return self.sections.get(stage) or {}


def _check_section(name: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InputError(f"job: [{name}] must be a table")
    spec = SCHEMA[name]
    unknown = sorted(set(raw) - set(spec))
    if unknown:
        raise InputError(f"job: unknown key {unknown[0]!r} in [{name}] (known: {', '.join(spec)})")
    values = {}
    for key, (types, default) in spec.items():
        if key not in raw:
            values[key] = default
            continue
        value = raw[key]
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            names = " or ".join(t.__name__ for t in types)
            raise InputError(f"job: [{name}] {key} must be {names}, got {value!r}")
        values[key] = value
    return values


def parse_job(text: str, path: str | os.PathLike = "JOB.toml") -> Job:
    """Parse and validate JOB.toml text (see jobs/*.toml for examples)."""
    data = parse_toml_text(text, f"job {os.fspath(path)!r}")  # bounded: size, nesting, finite numbers
    unknown = sorted(set(data) - set(SCHEMA))
    if unknown:
        raise InputError(f"job: unknown section [{unknown[0]}] (known: {', '.join(SCHEMA)})")
    if "job" not in data:
        raise InputError("job: missing [job] section")
    head = _check_section("job", data["job"])
    sections = {stage: (_check_section(stage, data[stage]) if stage in data else None) for stage in STAGES}
    if not any(sections.values()):
        raise InputError("job: no stage to run (add [search], [grid], [family] or [detectors])")
    if head["runner"] not in ("ray", "inline"):
        raise InputError(f"job: [job] runner must be 'ray' or 'inline', got {head['runner']!r}")
    name = run_name(head["name"], "job: [job] name") if head["name"] is not None else Path(path).stem
    out = run_folder(head["out"], "job: [job] out") if head["out"] is not None else named_folder("results", name)
    search, grid, family = sections["search"], sections["grid"], sections["family"]
    if search is not None and search["target"] is not None:
        parse_size(search["target"], "[search] target")
    if search is not None and search["trials"] is not None:
        check_trials(search["trials"], "job: [search] trials")
    if search is not None and search["generation"] is not None:
        check_int(search["generation"], "job: [search] generation", 1, MAX_TRIALS)
    if grid is not None:
        if search is None and not grid["base"]:
            raise InputError("job: [grid] needs base = ARCH when the job has no [search] stage")
        if grid["coefficients"] is not None:
            _coefficients(grid["coefficients"], "[grid] coefficients")
        if grid["step"] <= 0 or grid["phi"] <= 0:
            raise InputError("job: [grid] step and phi must be positive")
        if grid["levels"] is not None and not all(isinstance(v, int | float) and not isinstance(v, bool) and v > 1
                                                  for v in grid["levels"]):
            raise InputError(f"job: [grid] levels must be MACs multiples > 1, got {grid['levels']!r}")
    if family is not None:
        if (family["phis"] is None) == (family["targets"] is None):
            raise InputError("job: [family] needs exactly one of phis = [...] or targets = [...]")
        if family["phis"] is not None and not all(isinstance(p, int | float) and not isinstance(p, bool)
                                                  for p in family["phis"]):
            raise InputError(f"job: [family] phis must be numbers, got {family['phis']!r}")
        if family["targets"] is not None:
            for target in family["targets"]:
                parse_size(target, "[family] target")
        if family["coefficients"] is not None:
            _coefficients(family["coefficients"], "[family] coefficients")
        if search is None and grid is None and not family["base"]:
            raise InputError("job: [family] needs base = ARCH when the job has no [search] or [grid] stage")
    if head["max_concurrent"] is not None and head["max_concurrent"] < 1:
        raise InputError(f"job: [job] max_concurrent must be >= 1, got {head['max_concurrent']}")
    for where, seed in (("[job] seed", head["seed"]), ("[search] seed", (search or {}).get("seed"))):
        if seed is not None:
            check_seed(seed, f"job: {where}")
    if sections["detectors"] is not None:
        if family is None:
            raise InputError("job: [detectors] needs a [family] stage to take members from")
        _check_detectors(sections["detectors"], len(family["phis"] or family["targets"]))
    return Job(path=Path(path), name=name, out=out, runner=head["runner"], ray_address=head["ray_address"],
               max_concurrent=head["max_concurrent"], seed=head["seed"], sections=sections)


def _check_detectors(section: dict[str, Any], members: int) -> None:
    """[detectors]: members = "all" or indices into the family, a known feature network, a class count."""
    from detectors.topology import TOPOLOGIES

    chosen = section["members"]
    if isinstance(chosen, str) and chosen != "all":
        raise InputError(f'job: [detectors] members must be "all" or a list of member indices, got {chosen!r}')
    if isinstance(chosen, list):
        for index in chosen:
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < members:
                raise InputError(f"job: [detectors] members: no member {index!r} (the family has {members}: "
                                 f"0..{members - 1})")
    if section["fpn"] not in TOPOLOGIES:
        raise InputError(f"job: [detectors] fpn must be one of {', '.join(TOPOLOGIES)}, got {section['fpn']!r}")
    check_int(section["num_classes"], "job: [detectors] num_classes", 1, MAX_CLASSES)


def _coefficients(values: list, what: str) -> tuple[float, float, float]:
    if len(values) != 3 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise InputError(f"job: {what} must be three numbers [alpha, beta, gamma], got {values!r}")
    return tuple(float(v) for v in values)  # type: ignore[return-value]


def load_job(path: str | os.PathLike) -> Job:
    """Read and validate a JOB.toml file."""
    return parse_job(read_text_file(path, "job"), path)
