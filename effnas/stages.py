"""The four pipeline stages. Each reads the previous stage's file in the run folder (or the job's
explicit input), writes its own, and returns a small summary for state.json."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from search_spaces import Arch, InputError, load_arch
from search_spaces.atomic import write_json_atomic
from search_spaces.units import parse_size

from .jobs import Job
from .report import read_json

if TYPE_CHECKING:
    from nas.runners import RunnerSettings

Progress = Callable[[str, dict[str, Any]], None]
REFERENCES = ("efficientnet-b0", "mnasnet-a1")
DETECTORS_SCHEMA = "effnas.detectors/1"
# stage -> files/folders it owns in the run folder
OUTPUTS = {"search": ("best.json", "search"), "grid": ("coefficients.json", "grid"),
           "family": ("family.json",), "train": ("train.json", "train"), "detectors": ("detectors.json",)}
# stage -> files that all exist once it finished; a lost one runs the stage again (from its ledger)
FINISHED = {"search": ("best.json", "search/best.json"), "grid": ("coefficients.json",),
            "family": ("family.json",), "train": ("train.json",), "detectors": ("detectors.json",)}
TRAIN_SCHEMA = "effnas.train-stage/1"


def finished(folder: Path, stage: str) -> bool:
    """Whether every file marking `stage` finished is in `folder`."""
    return all((folder / name).exists() for name in FINISHED[stage])


@dataclass
class Context:
    job: Job
    folder: Path
    log: Callable[[str], None]
    progress: Progress | None = None

    def report(self, stage: str, event: dict[str, Any]) -> None:
        if self.progress:
            self.progress(stage, event)


def runner_settings(job: Job) -> RunnerSettings:
    """How the job's trials run ([job] runner, ray_address, max_concurrent; one CPU, no GPU a trial)."""
    from nas.runners import RunnerSettings

    return RunnerSettings(job.runner, job.ray_address, job.max_concurrent)


# ---------------------------------------------------------------------- search
def search_config(job: Job) -> dict[str, Any]:
    """The search stage's validated nas config (preset ← job options)."""
    from nas.search import resolve_config

    section = dict(job.section("search"))
    preset = section.pop("preset")
    if section["target"] is not None:
        section["target"] = parse_size(section["target"], "[search] target")
    if section["seed"] is None:
        section["seed"] = job.seed
    return resolve_config(preset, **section, runner=job.runner, max_concurrent=job.max_concurrent)


def check_search(ctx: Context, fresh: bool = False) -> None:
    """Refuse a bad search config, a corrupt ledger or a folder holding another search."""
    from nas.ledger import Ledger
    from nas.search import check_out_dir, preflight

    config = search_config(ctx.job)
    preflight(config, ctx.job.ray_address)  # the data decoded, the Ray address reachable
    if not fresh:  # (a stage being redone starts from an empty folder)
        out = ctx.folder / "search"
        Ledger(out).read(repair=False)
        check_out_dir(config, out, resume=True)


def run_search_stage(ctx: Context) -> dict[str, Any]:
    """MnasNet search under the job's target; then the reference archs on the same proxy."""
    from nas.batch import evaluate_batch
    from nas.objective import Objective
    from nas.search import run_search

    config, job = search_config(ctx.job), ctx.job
    out = ctx.folder / "search"
    resume = (out / "config.json").exists()
    result = run_search(config, out, resume=resume, ray_address=job.ray_address,
                        progress=lambda event: ctx.report("search", event))
    objective = Objective.from_config(config)
    references = evaluate_batch([(name, load_arch(name)) for name in REFERENCES], config["evaluator"],
                                config["evaluator_config"], out / "references", runner_settings(job))
    for row in references:
        objective.score(row)  # (reward only: references.json has never held latency_ms)
    write_json_atomic(out / "references.json", references)
    best = read_json(out / "best.json")
    if best is None:
        raise RuntimeError("the search finished no trial")
    write_json_atomic(ctx.folder / "best.json", best)
    return {"trials": result["done"], "best_trial": best["trial"], "best_reward": best["reward"],
            "best_macs": best["macs"]}


# ---------------------------------------------------------------------- grid
def _searched_or(folder: Path, given: str | None, what: str) -> Arch:
    if given:
        return load_arch(given)
    best = read_json(folder / "best.json")
    if best is None:
        raise InputError(f"{what} has no base: give base = ARCH or run the search stage first")
    return Arch.from_dict(best["arch"]).with_(name="searched-baseline")


def check_grid(ctx: Context, fresh: bool = False) -> None:
    """Refuse a bad evaluator, its options or data, an unreachable Ray address or a bad base."""
    from nas.evaluators import check_data
    from nas.runners import check_runner
    from nas.runners.schedulers import check_scheduler

    section = ctx.job.section("grid")
    if section["coefficients"] is None:
        config = section["evaluator_config"]
        if config is None and ctx.job.sections.get("search") is not None:
            searched = search_config(ctx.job)  # (the grid then reuses the search's proxy task)
            config = searched["evaluator_config"] if searched["evaluator"] == section["evaluator"] else None
        check_data(section["evaluator"], config or {})
        check_runner(ctx.job.runner, ctx.job.ray_address)
        check_scheduler(section["scheduler"], section["scheduler_options"], section["evaluator"], config or {})
    if section["base"]:
        load_arch(section["base"])


def run_grid_stage(ctx: Context) -> dict[str, Any]:
    """Step 1: grid search of α, β, γ at φ (or the job's fixed coefficients)."""
    from nas.ledger import Ledger
    from scaling import parse_coefficients
    from scaling.grid import KnownEvaluations, run_grid
    from scaling.grid_options import GridOptions
    from search_spaces.schema import fields_of

    section = ctx.job.section("grid")
    if section["coefficients"] is not None:
        coefficients = parse_coefficients(",".join(str(v) for v in section["coefficients"]))
        write_json_atomic(ctx.folder / "coefficients.json", {**coefficients.as_dict(), "source": "job"})
        return {"coefficients": coefficients.as_dict(), "evaluated": 0}
    base = _searched_or(ctx.folder, section["base"], "[grid]")
    config = section["evaluator_config"]
    searched = read_json(ctx.folder / "search" / "config.json")
    known = None
    if searched and searched.get("evaluator") == section["evaluator"]:
        config = searched["evaluator_config"] if config is None else config  # the same proxy task as the search
        # the search's evaluations (its best is the grid's base) are not made again
        known = KnownEvaluations(searched["evaluator"], searched["evaluator_config"],
                                 Ledger(ctx.folder / "search").read(repair=False), "search")
    options = {key: section[key] for key in fields_of(GridOptions) if section[key] is not None}  # (None: default)
    result = run_grid(base, evaluator=section["evaluator"], config=config or {}, out_dir=ctx.folder / "grid",
                      **options, settings=runner_settings(ctx.job), progress=lambda event: ctx.report("grid", event),
                      known=known)
    chosen = read_json(ctx.folder / "grid" / "coefficients.json")
    write_json_atomic(ctx.folder / "coefficients.json", chosen)
    return {"coefficients": {k: chosen[k] for k in ("alpha", "beta", "gamma")},
            "evaluated": len(result.get("candidates", [])) if isinstance(result, dict) else None}


# ---------------------------------------------------------------------- family
def _family_inputs(ctx: Context) -> tuple[Arch | None, Any]:
    """(base, coefficients) for the family stage; base None while it awaits the search."""
    from scaling import load_coefficients

    section = ctx.job.section("family")
    if section["base"]:
        base: Arch | None = load_arch(section["base"])
    elif (ctx.folder / "best.json").exists():
        base = _searched_or(ctx.folder, None, "[family]")
    elif ctx.job.section("grid").get("base") and not ctx.job.sections.get("search"):
        base = load_arch(ctx.job.section("grid")["base"])
    else:
        base = None
    if section["coefficients"] is not None:
        coefficients: Any = tuple(section["coefficients"])
    elif (ctx.folder / "coefficients.json").exists():
        coefficients = load_coefficients(ctx.folder / "coefficients.json")
    else:
        coefficients = None  # the paper's α = 1.2, β = 1.1, γ = 1.15
    return base, coefficients


def check_family(ctx: Context, fresh: bool = False) -> None:
    """Targets the base cannot reach are refused before anything runs (when the base is known)."""
    from scaling import make_family

    section = ctx.job.section("family")
    base, coefficients = _family_inputs(ctx)
    if base is not None:
        make_family(base, phis=section["phis"], targets=section["targets"], coefficients=coefficients)


def run_family_stage(ctx: Context) -> dict[str, Any]:
    """Step 2: the family for the job's φ values or MACs targets."""
    from scaling import make_family

    section = ctx.job.section("family")
    base, coefficients = _family_inputs(ctx)
    if base is None:
        raise InputError("[family] has no base: give base = ARCH or run the search stage first")
    family = make_family(base, phis=section["phis"], targets=section["targets"], coefficients=coefficients)
    write_json_atomic(ctx.folder / "family.json", family.to_dict())
    return {"members": len(family), "macs": [m.macs for m in family]}


# ---------------------------------------------------------------------- train
def _train_inputs(ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    """([train]'s resolved recipe, its run options), checked (InputError on bad values)."""
    from nas.training.options import read_options
    from nas.training.recipe import get_recipe

    section = ctx.job.section("train")
    recipe = get_recipe(section["recipe"], section["options"] or {})
    given = {key: value for key, value in section.items()
             if key not in ("members", "recipe", "options") and value is not None}  # (None: the option's default)
    given.setdefault("seed", ctx.job.seed)
    return recipe, read_options(given)


def check_train(ctx: Context, fresh: bool = False) -> None:
    """The recipe, the options and the data ([train] data) are checked before anything runs."""
    from nas.data import load_dataset

    _, options = _train_inputs(ctx)
    load_dataset(options["data"], resolution=8, subset=options["subset"], seed=options["data_seed"],
                 val_size=options["val_size"], lazy=True, val_data=options["val_data"])


def run_train_stage(ctx: Context) -> dict[str, Any]:
    """Train the chosen family members, each in train/member-K (a rerun resumes a killed member from
    its last epoch); train.json lists each member's last metrics row."""
    from nas.training.run import train_run
    from scaling import load_family
    from scaling.progress import Countdown

    from .plots import plot_run_curves

    section = ctx.job.section("train")
    recipe, options = _train_inputs(ctx)
    family = load_family(ctx.folder / "family.json")
    chosen = range(len(family)) if section["members"] == "all" else section["members"]
    countdown, rows = Countdown(len(chosen)), []
    for index in chosen:
        member = family[index]
        folder = ctx.folder / "train" / f"member-{index}"
        ctx.log(f"[train] member {index} ({member.macs / 1e6:.0f}M MACs) -> {folder}")
        last = train_run(member.arch, recipe, options, folder, resume=True,
                         source={"family": str(ctx.folder / "family.json"), "member": index,
                                 "recipe_name": section["recipe"]})
        plot_run_curves(folder, f"member {index} · {section['recipe']} recipe · {options['data']}")
        rows.append({"member": index, "phi": member.phi, "macs": member.macs, "params": member.arch.cost().params,
                     "resolution": member.resolution, "folder": f"train/member-{index}", **last})
        ctx.report("train", countdown.tick())
    write_json_atomic(ctx.folder / "train.json", {"schema": TRAIN_SCHEMA, "recipe": section["recipe"],
                                                  "data": options["data"], "members": rows})
    return {"members": len(rows), "accuracy": [row["val_accuracy"] for row in rows]}


# ---------------------------------------------------------------------- detectors
def run_detectors_stage(ctx: Context) -> dict[str, Any]:
    """EfficientDet on each family member, scaled by the member's φ (φ < 0 uses D0's settings)."""
    from detectors import detector_cost, efficientdet
    from scaling import load_family
    from scaling.progress import Countdown

    section = ctx.job.section("detectors")
    family = load_family(ctx.folder / "family.json")
    chosen = range(len(family)) if section["members"] == "all" else section["members"]
    rows = []
    countdown = Countdown(len(chosen))
    for index in chosen:
        if not isinstance(index, int) or not 0 <= index < len(family):
            raise InputError(f"[detectors] members: no member {index!r} (the family has {len(family)})")
        member = family[index]
        phi = max(0.0, float(member.phi))
        options = {"num_classes": section["num_classes"], "topology": section["fpn"]}
        model = efficientdet(phi, backbone=member.arch, **options)
        cost = detector_cost(phi, backbone=member.arch, **options)
        description = {k: v for k, v in model.describe().items() if k != "backbone_arch"}
        rows.append({**description, "member": index, "phi": phi, "name": f"det-{index}", "params": cost.params,
                     "macs": cost.macs, "resolution": model.config.image_size,
                     "backbone": {"name": member.arch.name, "macs": member.macs, "resolution": member.resolution}})
        ctx.report("detectors", countdown.tick())
    write_json_atomic(ctx.folder / "detectors.json", {"schema": DETECTORS_SCHEMA, "detectors": rows})
    return {"detectors": len(rows)}


# stage -> the function that runs it (`nas.runners.RUNNERS` is something else: the trial runners)
STAGE_FUNCTIONS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "search": run_search_stage, "grid": run_grid_stage, "family": run_family_stage,
    "train": run_train_stage, "detectors": run_detectors_stage,
}

CHECKS: dict[str, Callable[[Context, bool], None]] = {
    "search": check_search, "grid": check_grid, "family": check_family, "train": check_train,
}
