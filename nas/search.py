"""The search driver: strategy → runner → evaluator → objective → ledger, resumable.

`resolve_config` turns user options (+ a preset) into the run's config (validated; nothing is
written on bad input). `run_search` runs it in `out_dir`: config.json, trials.jsonl (one row per
finished trial, appended and fsynced: trial, arch, params, macs, metric, reward, seconds, worker,
evaluator, details), best.json and strategy.pt (the strategy's state after each observation,
torch.save'd atomically, loaded with weights_only=True). When the strategy proposes and observes
is the schedule's (nas.schedules): synchronous generations by default (`synchronous`, size
`generation`, default the strategy's natural batch), so a seeded search is reproducible whatever
runs it; asynchronous with `synchronous=False`. `resume=True` continues a run whose driver died:
ledger rows are kept, the strategy's state is restored, and the schedule picks up from there
(asynchronous: rows newer than the state are replayed into it and in-flight trials proposed anew;
synchronous: the generation in progress is proposed again and only its unfinished trials run).

A trial scheduler (`scheduler` asha or hyperband, `scheduler_options`; nas.runners.schedulers) stops
poor trials after an epoch: their rows say "stopped": true and the epoch reached, their reward is
computed from that epoch's metric, and the strategy observes it like any other (what the
scheduler intends: a stopped candidate counts as a poor one). A stopped trial is a finished row:
a resumed run does not run it again, and the rows found are replayed into the fresh scheduler
first (exact when trials ran one at a time; see nas.runners.schedulers for what holds otherwise).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from search_spaces import Arch, InputError, MnasNetSpace
from search_spaces.atomic import write_with
from search_spaces.bounds import MAX_BAND, MAX_TRIALS, check_int, check_number, check_seed, check_trials
from search_spaces.paths import check_exists
from search_spaces.schema import defaults

from . import migrate
from .evaluators import check_config
from .ledger import BEST, CONFIG, HELD, STATE, Ledger
from .objective import Objective
from .presets import get_preset
from .runners import RunnerSettings, check_runner_name, run
from .schedules import Schedule, make_schedule
from .search_options import SearchOptions
from .strategies import Strategy, check_strategy, make_strategy, read_strategy_options
from .strategies.band import CostBand, band_limits, check_reachable

SCHEMA = "effnas.search/1"
Progress = Callable[[dict[str, Any]], None]


def resolve_config(preset: str | None = None, **options: Any) -> dict[str, Any]:
    """The run's config: defaults ← preset ← explicit options (None = not given), validated."""
    base: dict[str, Any] = defaults(SearchOptions)
    chosen = get_preset(preset)
    requires_data = chosen.pop("requires_data", False)
    by_evaluator = chosen.pop("evaluator_configs", {})
    by_strategy = chosen.pop("strategy_options_by_name", {})
    base.update(chosen)
    evaluator = options.get("evaluator") or base["evaluator"]
    strategy = options.get("strategy") or base["strategy"]
    base["evaluator_config"] = dict(by_evaluator.get(evaluator, {}))
    base["strategy_options"] = dict(by_strategy.get(strategy, {}))
    evaluator_config = dict(base["evaluator_config"])
    evaluator_config.update(options.pop("evaluator_config", None) or {})
    strategy_options = dict(base["strategy_options"])
    strategy_options.update(options.pop("strategy_options", None) or {})
    scheduler_options = options.pop("scheduler_options", None)
    if scheduler_options is not None and not isinstance(scheduler_options, dict):
        raise InputError(f"scheduler options must be a table of key = value, got {scheduler_options!r}")
    base.update({k: v for k, v in options.items() if v is not None})
    base.update(evaluator_config=evaluator_config, strategy_options=strategy_options, preset=preset)
    if scheduler_options:
        base["scheduler_options"] = dict(scheduler_options)

    check_strategy(base["strategy"])
    read_strategy_options(base["strategy"], base["strategy_options"])  # (kept as given in config.json)
    check_config(base["evaluator"], base["evaluator_config"])
    check_runner_name(base["runner"])  # (first, as ever; the rest of the runner settings below)
    if base["target"] is None:
        raise InputError("--target is required (e.g. --target 400M, or --target 25 with --objective latency)")
    target = float(base["target"])
    if not math.isfinite(target) or target <= 0:
        raise InputError(f"target must be positive, got {base['target']}")
    base["target"] = int(target) if base["objective"] == "macs" and target.is_integer() else target
    objective = Objective.from_config(base)
    base["alpha"], base["beta"] = objective.alpha, objective.beta
    if objective.kind == "latency":
        try:
            from . import latency  # noqa: F401
        except ImportError:
            raise InputError("--objective latency needs nas.latency, which is not installed") from None
    check_trials(base["trials"])
    check_seed(base["seed"])
    if not isinstance(base["synchronous"], bool):
        raise InputError(f"synchronous must be true or false, got {base['synchronous']!r}")
    if base["generation"] is not None:
        check_int(base["generation"], "generation size", 1, MAX_TRIALS)
    RunnerSettings.from_config(base)  # max concurrent, CPUs and GPUs per trial
    from .runners.schedulers import check_scheduler  # (torch: only once the config is otherwise good)

    base["scheduler"], base["scheduler_options"] = check_scheduler(base["scheduler"], base["scheduler_options"],
                                                                   base["evaluator"], base["evaluator_config"])
    if base["data"] is not None:
        base["data"] = os.path.abspath(check_exists(str(base["data"]), "data directory"))
        check_data(base["data"])
        base["evaluator_config"]["dataset"] = base["data"]
    elif requires_data:
        raise InputError(f"preset {preset} needs --data DIR (an ImageNet-layout folder: DIR/<class>/<image>)")
    space = MnasNetSpace(filters=base["space"])
    if base["band"] is not None:
        base["band"] = check_number(base["band"], "cost band", 0.0, MAX_BAND) or None  # 0: no band
    if base["band"] is not None:
        check_reachable(space, lambda tokens: objective.cost(space.decode(tokens)),
                        *band_limits(objective.target, base["band"]))
    base["schema"] = SCHEMA
    return base


def check_data(path: str) -> None:
    """A data directory/file must exist and hold at least two classes (labels are read, not images)."""
    check_exists(path, "data directory")
    from .data import open_source

    source = open_source(path)
    classes = len(np.unique(np.asarray(source.labels)))
    if classes < 2:
        raise InputError(f"data set {path} has {classes} class; at least 2 are needed")


def stored_config(out_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The config.json of the search run in `out_dir` (None if there is none), keys it predates
    filled in with what such runs did (nas.migrate.SEARCH)."""
    stored = Ledger(out_dir).read_json(CONFIG)
    return None if stored is None else migrate.SEARCH.upgrade(stored)


def check_out_dir(config: Mapping[str, Any], out_dir: str | os.PathLike, resume: bool) -> dict[str, Any] | None:
    """The stored config of `out_dir` if resuming it; InputError if it holds another run."""
    ledger = Ledger(out_dir)
    stored = stored_config(out_dir)
    if stored is None:
        if ledger.path.exists():
            raise InputError(f"{out_dir} holds trials.jsonl but no config.json; choose another --out")
        return None
    if not resume:
        raise InputError(f"{out_dir} already holds a search run (config.json); pass --resume to continue it "
                         "or choose another --out")
    different = migrate.SEARCH.differences(stored, config)
    if different:
        raise InputError(f"{out_dir} holds a different run (differs in {', '.join(different)}); "
                         "choose another --out")
    return stored


def preflight(config: Mapping[str, Any], ray_address: str | None = None) -> None:
    """What `resolve_config` leaves out because it costs a load or a connection: the evaluator's data
    (decoded as a trial would) and a reachable Ray cluster. Call it before writing anything."""
    from .evaluators import check_data
    from .runners import check_runner

    check_data(config["evaluator"], config["evaluator_config"])
    check_runner(config["runner"], ray_address)


def _save_state(path: Path, state: dict[str, Any]) -> None:
    import torch

    write_with(path, lambda handle: torch.save(state, handle))


def _load_state(path: Path, strategy: Any, rows: list[dict[str, Any]]) -> list[str]:
    """Restore `strategy` from strategy.pt; the trial keys it has seen ([] when the ledger lost one of
    them: the ledger is replayed instead). InputError when the file is not a strategy state."""
    import torch

    try:
        saved = torch.load(path, weights_only=True)
        keys = [str(key) for key in saved["keys"]]
        if not set(keys) <= {row["trial"] for row in rows}:
            return []  # the state saw a trial the ledger lost (a truncated last line)
        strategy.load_state_dict(saved["strategy"])
    except Exception:  # noqa: BLE001 — whatever torch or the strategy says, the file is not usable
        raise InputError(f"{path} is not a valid strategy state (damaged, or not written by effnas); delete it and "
                         "--resume again: the strategy is then rebuilt from trials.jsonl") from None
    return keys


def _restore(ledger: Ledger, strategy: Strategy, resuming: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """(the ledger's rows, the trial keys the restored strategy has seen): nothing for a new run; a
    resumed run's rows, and the strategy restored from strategy.pt when there is one."""
    rows = ledger.read() if resuming else []
    state_path = ledger.dir / STATE
    observed_keys: list[str] = []
    if rows and state_path.exists():
        observed_keys = _load_state(state_path, strategy, rows)
    return rows, observed_keys


class _Recorder:
    """Where finished trials go: appended to the ledger, best.json kept current, `progress` told
    {"done", "total", "best_reward", "last", "eta_s", "elapsed_s"} (ETA from this process's rate)."""

    def __init__(self, ledger: Ledger, space: MnasNetSpace, rows: list[dict[str, Any]], total: int,
                 progress: Progress | None) -> None:
        self.ledger, self.space, self.total, self.progress = ledger, space, total, progress
        self.done = len(rows)
        self.best = max(rows, key=lambda r: r["reward"]) if rows else None
        self.start, self.done_at_start = time.monotonic(), self.done

    def record(self, row: dict[str, Any]) -> None:
        self.ledger.append(row)
        self.done += 1
        if self.best is None or row["reward"] > self.best["reward"]:
            self.best = row
            self.ledger.write_json(BEST, best_record(row, self.space))
        if self.progress:
            elapsed = time.monotonic() - self.start
            rate = (self.done - self.done_at_start) / elapsed if elapsed > 0 else 0.0
            self.progress({"done": self.done, "total": self.total, "best_reward": self.best["reward"], "last": row,
                           "eta_s": (self.total - self.done) / rate if rate > 0 else None, "elapsed_s": elapsed})


def _run_schedule(schedule: Schedule, space: MnasNetSpace, objective: Objective, settings: RunnerSettings,
                  config: Mapping[str, Any], max_failures: int) -> list[str]:
    """Run the schedule's trials on the runner until it has none left (or more than `max_failures`
    failed); returns the failed trial keys."""
    failures: list[str] = []

    def source() -> tuple[str, Arch] | None:
        item = schedule.next() if len(failures) <= max_failures else None
        return None if item is None else (item[0], space.decode(item[1], name=item[0]))

    def on_result(row: dict[str, Any]) -> None:
        schedule.finished(objective.score(row, record_latency=True))

    def on_failure(key: str) -> None:
        failures.append(key)
        schedule.failed(key)

    run(settings.runner, source, on_result, config["evaluator"], config["evaluator_config"],
        on_failure=on_failure, **settings.run_options())
    return failures


def run_search(config: dict[str, Any], out_dir: str | os.PathLike, resume: bool = False,
               ray_address: str | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Run (or resume) the search described by `config` in `out_dir`; returns a summary dict."""
    stored = check_out_dir(config, out_dir, resume)
    settings = RunnerSettings.from_config(config, ray_address)
    space = MnasNetSpace(filters=config["space"])
    objective = Objective.from_config(config)
    strategy = search_strategy(config, space, objective)
    ledger = Ledger(out_dir)
    rows, observed_keys = _restore(ledger, strategy, resuming=stored is not None)
    ledger.write_json(CONFIG, config)
    total = int(config["trials"])
    recorder = _Recorder(ledger, space, rows, total, progress)

    def save(keys: list[str]) -> None:
        observed_keys.extend(keys)
        _save_state(ledger.dir / STATE, {"strategy": strategy.state_dict(), "keys": observed_keys})

    held = Ledger(out_dir, HELD)
    settings = replace(settings, scheduler=_scheduling(config, rows, held.read() if stored is not None else []))
    schedule = make_schedule(config, strategy, space, rows, list(observed_keys), held, recorder.record, save)
    failures: list[str] = []
    if recorder.done < total:
        failures = _run_schedule(schedule, space, objective, settings, config, max_failures=max(5, total // 4))
    if recorder.best is not None:
        ledger.write_json(BEST, best_record(recorder.best, space))
    if recorder.done < total:
        raise RuntimeError(f"{len(failures)} trials failed ({', '.join(failures[:5])}...); {recorder.done}/{total} "
                           f"finished and kept in {ledger.path}; fix the cause and --resume")
    return {"out": str(ledger.dir), "done": recorder.done, "total": total, "best": recorder.best, "failed": failures,
            "rows": ledger.read()}


def _scheduling(config: Mapping[str, Any], rows: list[dict[str, Any]], held: list[dict[str, Any]]) -> Any:
    """The config's trial scheduler (None: none), with the finished trials (the ledger's rows, then
    those held back in generation.jsonl, in the order they finished) to replay into it."""
    from .runners.schedulers import Scheduling

    recorded = {row["trial"] for row in rows}
    history = rows + [row for row in held if row["trial"] not in recorded]
    return Scheduling.from_config(config.get("scheduler"), config.get("scheduler_options"), config["evaluator"],
                                  config["evaluator_config"], history)


def search_strategy(config: Mapping[str, Any], space: MnasNetSpace, objective: Objective) -> Strategy:
    """The config's strategy, seeded, drawing within the cost band when the config has one."""
    strategy = make_strategy(config["strategy"], space, config["seed"], **config["strategy_options"])
    if config.get("band") is None:
        return strategy
    return CostBand(strategy, lambda tokens: objective.cost(space.decode(tokens)),
                    *band_limits(objective.target, config["band"]))


def best_record(row: Mapping[str, Any], space: MnasNetSpace) -> dict[str, Any]:
    arch = Arch.from_dict(row["arch"])
    return {"trial": row["trial"], "reward": row["reward"], "metric": row["metric"], "macs": row["macs"],
            "params": row["params"], "blocks": arch.block_strings(), "tokens": space.encode(arch),
            "arch": row["arch"]}
