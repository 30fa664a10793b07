"""JOB.toml: a pipeline job (search → grid → family → train → detectors) as a validated record.

Every section is optional except ``[job]``; a stage whose section is missing is skipped and its
input comes from the next stage's explicit setting (e.g. ``[grid] base = "efficientnet-b0"``).
Unknown keys, wrong types and impossible values raise InputError naming the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detectors.configs import DetConfig
from detectors.topology import TOPOLOGIES
from nas.runners.settings import DEFAULT_RUNNER, RUNNERS
from nas.search_options import SearchOptions
from nas.training.options import TrainOptions
from scaling.grid_options import GridOptions
from search_spaces import InputError
from search_spaces.bounds import MAX_CLASSES, check_int, check_seed
from search_spaces.readers import parse_toml_text, read_text_file
from search_spaces.schema import Style, optional_view, python_names, read, spec
from search_spaces.units import parse_size

from .runfolder import named_folder, run_folder, run_name

STAGES = ("search", "grid", "family", "train", "detectors")


def _size(value: Any, what: str) -> None:
    parse_size(value, what.removeprefix("job: "))


def _coefficients(values: list, what: str) -> None:
    if len(values) != 3 or not all(_is_number(v) for v in values):
        raise InputError(f"{what} must be three numbers [alpha, beta, gamma], got {values!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _runner(value: str, what: str) -> None:
    if value not in RUNNERS:
        raise InputError(f"{what} must be 'ray' or 'inline', got {value!r}")


def _at_least_one(value: int, what: str) -> None:
    if value < 1:
        raise InputError(f"{what} must be >= 1, got {value}")


def _members(value: str | list, what: str) -> None:
    if isinstance(value, str) and value != "all":
        raise InputError(f'{what} must be "all" or a list of member indices, got {value!r}')


# JOB.toml's schema, declared once: one record per section (types, defaults, bounds); cross-section
# rules are in parse_job. Messages read "job: [section] key must be ..., got ...".
@dataclass(frozen=True)
class JobSection:
    name: str | None = None
    out: str | None = None
    runner: str = spec(DEFAULT_RUNNER, check=_runner)
    ray_address: str | None = None
    max_concurrent: int | None = spec(None, check=_at_least_one)
    seed: int = spec(0, check=check_seed)


# [search]: every option of a search (nas.search_options, declared there once) but those [job] sets,
# each optional (None: the preset's or the default), plus the preset; the target may be "400M"
SearchSection = optional_view(SearchOptions, "SearchSection", drop=("runner", "max_concurrent"),
                              add=(("preset", str | None, None),),
                              override={"target": (str | int | float | None, spec(None, check=_size))})


# [grid]: step 1's options (scaling.grid_options.GridOptions, declared there once), each optional
# (None: its default), plus what to scale (base: default the search's best), the evaluator and its
# options (default: the search's proxy) or fixed coefficients instead of a grid
GridSection = optional_view(GridOptions, "GridSection",
                            add=(("base", str | None, None), ("evaluator", str, "proxy"),
                                 ("coefficients", list | None, spec(None, check=_coefficients)),
                                 ("evaluator_config", dict | None, None)))


@dataclass(frozen=True)
class FamilySection:
    base: str | None = None
    phis: list | None = spec(None, check=lambda v, what: _need(all(map(_is_number, v)),
                                                              f"{what} must be numbers, got {v!r}"))
    targets: list | None = spec(None, check=lambda v, what: [parse_size(t, "[family] target") for t in v])
    coefficients: list | None = spec(None, check=_coefficients)


# [train]: train family members with `effnas train`'s engine, one run folder each: which members, the
# recipe and its overrides (--opt), then every run option of nas.training.run.TrainOptions (declared
# there once; None: its default; seed: [job] seed), data required
TrainSection = optional_view(TrainOptions, "TrainSection",
                             add=(("members", str | list, spec("all", check=_members)), ("recipe", str, "efficientnet"),
                                  ("options", dict | None, None)),
                             override={"data": (str, spec())})


@dataclass(frozen=True)
class DetectorsSection:
    members: str | list = spec("all", check=_members)
    num_classes: int = spec(DetConfig.num_classes, check=lambda v, what: check_int(v, what, 1, MAX_CLASSES))
    fpn: str = spec(DetConfig.topology, choices=tuple(TOPOLOGIES))


SCHEMA: dict[str, type] = {"job": JobSection, "search": SearchSection, "grid": GridSection,
                           "family": FamilySection, "train": TrainSection, "detectors": DetectorsSection}
_STYLE = Style(name="job: {where} {key}", unknown="job: unknown key {first!r} in {where} (known: {known})",
               type_names=python_names)


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)


@dataclass(frozen=True)
class Job:
    """A parsed JOB.toml. `sections[stage]` is None for a stage the job skips."""

    path: Path
    name: str
    out: Path
    runner: str
    ray_address: str | None
    max_concurrent: int | None
    seed: int
    sections: dict[str, dict[str, Any] | None]

    def stages(self) -> list[str]:
        return [s for s in STAGES if self.sections.get(s) is not None]

    def section(self, stage: str) -> dict[str, Any]:
        return self.sections.get(stage) or {}


def _read_section(name: str, raw: Any) -> dict[str, Any]:
    """One [section] read against its record: every key (absent: its default), checked."""
    if not isinstance(raw, dict):
        raise InputError(f"job: [{name}] must be a table")
    return read(SCHEMA[name], raw, f"[{name}]", _STYLE)


def parse_job(text: str, path: str | os.PathLike = "JOB.toml") -> Job:
    """Parse and validate JOB.toml text (see jobs/*.toml for examples)."""
    data = parse_toml_text(text, f"job {os.fspath(path)!r}")  # bounded: size, nesting, finite numbers
    unknown = sorted(set(data) - set(SCHEMA))
    if unknown:
        raise InputError(f"job: unknown section [{unknown[0]}] (known: {', '.join(SCHEMA)})")
    if "job" not in data:
        raise InputError("job: missing [job] section")
    head = _read_section("job", data["job"])
    sections = {stage: (_read_section(stage, data[stage]) if stage in data else None) for stage in STAGES}
    if not any(sections.values()):
        raise InputError("job: no stage to run (add [search], [grid], [family], [train] or [detectors])")
    _check_stages(sections)
    name = run_name(head["name"], "job: [job] name") if head["name"] is not None else Path(path).stem
    out = run_folder(head["out"], "job: [job] out") if head["out"] is not None else named_folder("results", name)
    return Job(path=Path(path), name=name, out=out, runner=head["runner"], ray_address=head["ray_address"],
               max_concurrent=head["max_concurrent"], seed=head["seed"], sections=sections)


def _check_stages(sections: dict[str, dict[str, Any] | None]) -> None:
    """The rules between sections: each stage's input comes from an earlier stage or its own base."""
    search, grid, family, train, detectors = (sections[stage] for stage in STAGES)
    if grid is not None and search is None and not grid["base"]:
        raise InputError("job: [grid] needs base = ARCH when the job has no [search] stage")
    if family is not None:
        if (family["phis"] is None) == (family["targets"] is None):
            raise InputError("job: [family] needs exactly one of phis = [...] or targets = [...]")
        if search is None and grid is None and not family["base"]:
            raise InputError("job: [family] needs base = ARCH when the job has no [search] or [grid] stage")
    for name, section in (("train", train), ("detectors", detectors)):
        if section is not None:
            if family is None:
                raise InputError(f"job: [{name}] needs a [family] stage to take members from")
            _check_members(section["members"], len(family["phis"] or family["targets"]), name)


def _check_members(chosen: str | list, members: int, stage: str = "detectors") -> None:
    """[detectors] / [train] members: "all" or indices into the family's members."""
    if isinstance(chosen, list):
        for index in chosen:
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < members:
                raise InputError(f"job: [{stage}] members: no member {index!r} (the family has {members}: "
                                 f"0..{members - 1})")


def load_job(path: str | os.PathLike) -> Job:
    """Read and validate a JOB.toml file."""
    return parse_job(read_text_file(path, "job"), path)
