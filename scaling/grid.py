"""Step 1 of compound scaling: grid search of α, β, γ at φ (EfficientNet §3.3), plus matched-MACs
single-dimension scaling (Observation 2, Fig. 3/8), evaluated through `nas.batch.evaluate_batch`.

Candidates (each keyed, so a killed run resumes from the ledger without re-evaluating):
* ``base`` — the unscaled base;
* ``compound-a{α}-b{β}-g{γ}`` — every α, β, γ ≥ 1 on the grid (multiples of `step` from 1)
  with |α·β²·γ² − 2| ≤ `tolerance`, the base scaled by φ with them;
* ``{depth,width,resolution}-x{L}`` — one dimension scaled alone to L × the base's MACs;
* ``compound-x{L}`` — after the grid: the best coefficients' member nearest L × base MACs
  (target search), the matched-MACs compound point.

Proxy resolution: evaluators train/score at config["resolution"] pixels, not at the
architecture's; so that resolution scaling is visible to the proxy, each candidate is evaluated
at round(config resolution × candidate resolution / base resolution) px (candidates grouped by
it) unless `scale_proxy_resolution=False`. MACs are always those of the full-resolution network.

A trial scheduler (`scheduler` asha or hyperband; nas.runners.schedulers) stops poor candidates after
an epoch: their rows say "stopped" and the epoch reached, and their metric (that epoch's) is what
the grid compares. One scheduler state runs through the whole grid: each evaluation batch (a
proxy resolution, the matched members, a resumed run) replays the ledger's rows into it first.

Evaluations made elsewhere (`known`: a search's ledger, the job's search stage) are not made again:
a candidate that is one of those networks, evaluated by the same evaluator under the same options
(proxy resolution included), takes its row — the evaluators are deterministic for fixed options — and
its ledger row says where it came from ("reused": "search/t00009").
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nas import migrate
from nas.reference import scaled_pixels
from search_spaces import Arch, InputError, load_arch
from search_spaces.atomic import write_json_atomic
from search_spaces.readers import read_json_file

from .candidates import Candidate, compound_key, level_key
from .coefficients import Coefficients
from .grid_options import GridOptions
from .grid_report import grid_record, write_reports
from .matched import RULES, single_dimension
from .scale import compound_scale
from .targets import fit_target

if TYPE_CHECKING:
    from nas.runners import RunnerSettings

GRID_CONFIG_SCHEMA = "effnas.grid-config/1"
DEFAULT_PROXY_RESOLUTION = 32


def coefficient_grid(step: float = GridOptions.step, tolerance: float = GridOptions.tolerance) -> list[Coefficients]:
    """All (α, β, γ) on the grid 1, 1+step, … with α, β, γ ≥ 1 and |α·β²·γ² − 2| ≤ tolerance."""
    if not (isinstance(step, int | float) and 0.005 <= step <= 1):
        raise InputError(f"grid step must be in [0.005, 1], got {step!r}")
    if not (isinstance(tolerance, int | float) and 0 <= tolerance <= 1):
        raise InputError(f"constraint tolerance must be in [0, 1], got {tolerance!r}")
    top = 2.0 + tolerance
    values = [round(1 + i * step, 6) for i in range(int(math.floor((top - 1) / step + 1e-9)) + 1)]
    found = [Coefficients(a, b, g) for a in values for b in values if a * b * b <= top + 1e-9
             for g in values if Coefficients(a, b, g).satisfies(tolerance)]
    if not found:
        raise InputError(f"no grid point satisfies alpha*beta^2*gamma^2 within {tolerance:g} of 2 at step {step:g}")
    return found


def grid_candidates(base: Arch, phi: float = GridOptions.phi, step: float = GridOptions.step,
                    tolerance: float = GridOptions.tolerance, levels: Sequence[float] = GridOptions.levels,
                    match_macs: bool = GridOptions.match_macs) -> list[Candidate]:
    """The base, every compound grid point at φ, and single-dimension members at each MACs level.

    `match_macs`: instead of the plain compound member at φ (whose MACs vary ±15% between
    triples through rounding), each triple's member is the target search's member nearest
    2^φ × base MACs, so the grid compares coefficients at equal cost."""
    if not (isinstance(phi, int | float) and 0 < phi <= 4):
        raise InputError(f"grid phi must be in (0, 4], got {phi!r}")
    for level in levels:
        if not (isinstance(level, int | float) and 1 < level <= 64):
            raise InputError(f"MACs levels must be multiples of the base MACs in (1, 64], got {level!r}")
    candidates = [Candidate("base", "base", base, level=1.0)]
    base_macs = base.cost().macs
    for c in coefficient_grid(step, tolerance):
        if match_macs:
            arch = fit_target(base, int(round(2.0 ** phi * base_macs)), c, tolerance=tolerance).arch
        else:
            arch = compound_scale(base, phi, coefficients=c, tolerance=tolerance)
        arch = arch.with_(name=f"{base.name}-{compound_key(c)}")
        candidates.append(Candidate(compound_key(c), "compound", arch, c))
    for level in levels:
        for rule in RULES:
            arch = single_dimension(base, rule, level * base_macs)
            candidates.append(Candidate(level_key(rule, level), rule, arch, level=float(level)))
    return candidates


def proxy_resolution(base: Arch, arch: Arch, config: Mapping[str, Any], scale_proxy: bool) -> int:
    """The evaluator's input size for `arch`: config resolution scaled by arch/base resolution."""
    reference = int(config.get("resolution", DEFAULT_PROXY_RESOLUTION))
    if not scale_proxy:
        return reference
    return scaled_pixels(reference, arch.resolution, base.resolution)


def _groups(candidates: Sequence[Candidate], base: Arch, config: Mapping[str, Any],
            scale_proxy: bool) -> list[tuple[int, list[Candidate], dict[str, Candidate]]]:
    """(proxy resolution, its candidates, one candidate per distinct network) in evaluation order."""
    groups: dict[int, list[Candidate]] = {}
    for candidate in candidates:
        groups.setdefault(proxy_resolution(base, candidate.arch, config, scale_proxy), []).append(candidate)
    plan = []
    for pixels, group in sorted(groups.items()):
        unique: dict[str, Candidate] = {}  # the same network under two keys is evaluated once
        for candidate in group:
            unique.setdefault(_signature(candidate.arch), candidate)
        plan.append((pixels, group, unique))
    return plan


def evaluation_keys(candidates: Sequence[Candidate], base: Arch, config: Mapping[str, Any],
                    scale_proxy: bool = True) -> list[str]:
    """The ledger keys :func:`evaluate_candidates` evaluates for `candidates` (one per distinct network)."""
    return [c.key for _, _, unique in _groups(candidates, base, config, scale_proxy) for c in unique.values()]


@dataclass(frozen=True)
class KnownEvaluations:
    """Finished evaluations from elsewhere: ledger rows (each with its "arch" dict) that `evaluator`
    made under `config`; `source` names them in the reused rows ("search")."""

    evaluator: str
    config: Mapping[str, Any]
    rows: Sequence[Mapping[str, Any]]
    source: str


def adopt_known(candidates: Sequence[Candidate], base: Arch, evaluator: str, config: Mapping[str, Any],
                out_dir: str | os.PathLike, known: KnownEvaluations, scale_proxy: bool = True) -> None:
    """Write into the grid's ledger, under the candidate's key, the known row of every candidate that
    is a known network evaluated by the same evaluator with the same options."""
    from nas.ledger import Ledger

    if known.evaluator != evaluator:
        return
    ledger = Ledger(out_dir)
    done = {str(row["trial"]) for row in ledger.read()}
    by_signature = {_signature(Arch.from_dict(row["arch"])): row for row in known.rows
                    if row.get("metric") is not None and not row.get("stopped")}
    for pixels, _, unique in _groups(candidates, base, config, scale_proxy):
        if dict(known.config) != _group_config(config, pixels, scale_proxy):
            continue
        for signature, candidate in unique.items():
            row = by_signature.get(signature)
            if row is not None and candidate.key not in done:
                kept = {k: v for k, v in row.items() if k != "reward"}  # (a search's objective, not the grid's)
                ledger.append({**kept, "trial": candidate.key, "arch": candidate.arch.to_dict(),
                               "reused": f"{known.source}/{row['trial']}"})


def _group_config(config: Mapping[str, Any], pixels: int, scale_proxy: bool) -> dict[str, Any]:
    """The evaluator options of one proxy-resolution group."""
    return {**config, "resolution": pixels} if scale_proxy else dict(config)


def evaluate_candidates(candidates: Sequence[Candidate], base: Arch, evaluator: str, config: Mapping[str, Any],
                        out_dir: str | os.PathLike, scale_proxy: bool = True, settings: RunnerSettings | None = None,
                        progress: Callable[[dict[str, Any]], None] | None = None,
                        scheduler: tuple[str | None, Mapping[str, Any] | None] = (None, None)) -> dict[str, dict]:
    """Rows keyed by candidate key; candidates grouped by proxy resolution, one ledger for all, run
    as `settings` say (default: inline); `progress(row)` as each evaluation finishes; `scheduler`:
    (name, options) of a trial scheduler, the ledger's rows replayed into it before each batch."""
    from nas.batch import evaluate_batch
    from nas.ledger import Ledger
    from nas.runners import RunnerSettings
    from nas.runners.schedulers import Scheduling

    rows: dict[str, dict] = {}
    for pixels, group, unique in _groups(candidates, base, config, scale_proxy):
        group_config = _group_config(config, pixels, scale_proxy)
        run_settings = settings
        if scheduler[0] is not None:
            history = Ledger(out_dir).read()
            run_settings = replace(settings or RunnerSettings(),
                                   scheduler=Scheduling.from_config(*scheduler, evaluator, group_config, history))
        found = evaluate_batch([(c.key, c.arch) for c in unique.values()], evaluator, group_config, out_dir,
                               settings=run_settings, progress=progress)
        by_signature = {sig: row for sig, row in zip(unique, found, strict=True)}
        for candidate in group:
            row = by_signature[_signature(candidate.arch)]
            rows[candidate.key] = {**row, "proxy_resolution": pixels, "evaluated_as": row["trial"]}
    return rows


def _signature(arch: Arch) -> str:
    """The network itself — scaled stages, stem/head widths, resolution, the rest of the record —
    without name or multipliers (depth 2.0 and 1.99999 can build the same layers)."""
    data = arch.to_dict()
    for key in ("name", "width", "depth", "stage_repeats", "stage_filters", "blocks"):
        data.pop(key, None)
    data.update(stages=[s.to_string() for s in arch.stages], stem=arch.stem_channels, head=arch.head_channels)
    return json.dumps(data, sort_keys=True)


def best_coefficients(candidates: Sequence[Candidate], rows: Mapping[str, dict]) -> Candidate:
    """Highest metric among compound candidates; ties → product closest to 2, then fewer MACs."""
    compound = [c for c in candidates if c.rule == "compound"]
    return max(compound, key=lambda c: (rows[c.key]["metric"], -abs(c.coefficients.product - 2.0),
                                        -rows[c.key]["macs"]))


def _check_config(out: Path, record: dict[str, Any]) -> None:
    """A run folder belongs to one grid: refuse to mix a different base/evaluator/config into it."""
    path = out / "config.json"
    if path.exists():
        old = read_json_file(path, "grid config")
        if not isinstance(old, dict):
            raise InputError(f"{path} is not a grid config; use a fresh --out")
        if old.get("schema") != GRID_CONFIG_SCHEMA or migrate.GRID.differences(old, record):
            raise InputError(f"{out} holds a different run (base, phi, evaluator, config or scheduler differ); "
                             "use another --out")
    write_json_atomic(path, record)


def _countdown(out: Path, base: Arch, config: Mapping[str, Any], scale_proxy: bool, candidates: Sequence[Candidate],
               levels: Sequence[float], progress: Callable[[dict[str, Any]], None] | None
               ) -> Callable[[dict[str, Any]], None] | None:
    """A row callback passing `progress` {"done", "total", "eta_s", "last": row} over the whole grid: the
    distinct networks of the grid plus one compound-x{L} per level, those already in the ledger done."""
    if progress is None:
        return None
    from nas.ledger import Ledger

    from .progress import Countdown

    keys = evaluation_keys(candidates, base, config, scale_proxy) + [level_key("compound", lv) for lv in levels]
    finished = {str(row["trial"]) for row in Ledger(out).read(repair=False)}
    countdown = Countdown(len(keys), len(finished & set(keys)))
    return lambda row: progress({**countdown.tick(), "last": row})


def run_grid(base: Arch | str, evaluator: str, config: Mapping[str, Any] | None, out_dir: str | os.PathLike, *,
             phi: float = GridOptions.phi, step: float = GridOptions.step, tolerance: float = GridOptions.tolerance,
             levels: Sequence[float] = GridOptions.levels, settings: RunnerSettings | None = None,
             scale_proxy_resolution: bool = GridOptions.scale_proxy_resolution, plot: bool = True,
             single_dimension: bool = GridOptions.single_dimension, match_macs: bool = GridOptions.match_macs,
             progress: Callable[[dict[str, Any]], None] | None = None, scheduler: str | None = None,
             scheduler_options: Mapping[str, Any] | None = None,
             known: KnownEvaluations | None = None) -> dict[str, Any]:
    """The whole step-1 search; writes config.json, trials.jsonl, grid.json, grid.md, coefficients.json
    and grid.png to `out_dir` and returns the grid.json object. The options and their defaults are
    :class:`scaling.grid_options.GridOptions`'s. `single_dimension=False` skips the
    matched-MACs comparison (no levels); `match_macs` see :func:`grid_candidates`. `progress(event)` is
    called as each evaluation finishes: {"done", "total", "eta_s", "last": the ledger row}. The
    evaluations run as `settings` say (default: inline); `scheduler` (asha, hyperband; None or "none":
    none) with `scheduler_options` stops poor candidates early; `known`: evaluations not to make again
    (module docstring)."""
    from nas.evaluators import check_data
    from nas.runners import RunnerSettings, check_runner

    base = load_arch(base)
    levels = tuple(levels) if single_dimension else ()
    config = dict(config or {})
    check_data(evaluator, config)  # options, then the data decoded: before anything is written
    from nas.runners.schedulers import check_scheduler

    scheduler, scheduler_options = check_scheduler(scheduler, scheduler_options, evaluator, config)
    settings = settings or RunnerSettings()
    check_runner(settings.runner, settings.ray_address)
    candidates = grid_candidates(base, phi, step, tolerance, levels, match_macs)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} exists and is not a folder")
    record = {"schema": GRID_CONFIG_SCHEMA, "base": base.to_dict(), "phi": phi, "evaluator": evaluator,
              "config": config, "step": step, "tolerance": tolerance, "levels": list(levels),
              "runner": settings.runner, "scale_proxy_resolution": scale_proxy_resolution, "match_macs": match_macs}
    if scheduler is not None:  # (config.json of a grid without one is as it was)
        record.update(scheduler=scheduler, scheduler_options=scheduler_options)
    _check_config(out, record)
    if known is not None:
        adopt_known(candidates, base, evaluator, config, out, known, scale_proxy_resolution)
    countdown = _countdown(out, base, config, scale_proxy_resolution, candidates, levels, progress)
    rows = evaluate_candidates(candidates, base, evaluator, config, out, scale_proxy_resolution, settings, countdown,
                               (scheduler, scheduler_options))
    best = best_coefficients(candidates, rows)
    base_macs = base.cost().macs
    matched = []
    for level in levels:
        fit = fit_target(base, int(round(level * base_macs)), best.coefficients, tolerance=tolerance)
        arch = fit.arch.with_(name=f"{base.name}-compound-x{level:g}")
        matched.append(Candidate(level_key("compound", level), "compound", arch, best.coefficients,
                                 level=float(level), extra={"phi": fit.phi}))
    rows.update(evaluate_candidates(matched, base, evaluator, config, out, scale_proxy_resolution, settings,
                                    countdown, (scheduler, scheduler_options)))
    result = grid_record(base, phi, evaluator, config, candidates + matched, rows, best, step, tolerance)
    write_reports(out, result, plot=plot)
    return result
