"""One home for each option: the search's options record and its views (JOB.toml [search], the CLI's
resume keys), the one KEY=VALUE parser, resume rules (nas.migrate) and the evaluator reporter."""

from __future__ import annotations

import pytest

from effnas.jobs import SearchSection, parse_job
from effnas.options import parse_config, parse_pair, parse_pairs
from effnas.stages import search_config
from nas import migrate
from nas.evaluators.reporter import SILENT, Reporter
from nas.search import resolve_config
from nas.search_options import SEARCH_KEYS, SearchOptions
from search_spaces import InputError
from search_spaces.schema import defaults, fields_of

JOB = """
[job]
name = "user-reward"
seed = 3
[search]
target = "400M"
reward = "user"
alpha = -0.1
beta = -0.5
strategy = "random"
strategy_options = {}
space = "paper"
cpus_per_trial = 2
trials = 4
"""


def test_the_job_section_is_a_view_of_the_search_record():
    section = set(fields_of(SearchSection))
    assert section == (set(SEARCH_KEYS) - {"runner", "max_concurrent"}) | {"preset"}
    assert all(field.default is None for field in fields_of(SearchSection).values())
    assert resolve_config(target=400e6).keys() >= set(SEARCH_KEYS)
    assert {k: resolve_config(target=400e6)[k] for k in SEARCH_KEYS if k != "target"} == \
        {k: v for k, v in defaults(SearchOptions).items() if k != "target"} | {"alpha": -0.07, "beta": -0.07}


def test_a_job_can_use_every_search_option(tmp_path):
    config = search_config(parse_job(JOB, tmp_path / "job.toml"))
    assert (config["reward"], config["alpha"], config["beta"]) == ("user", -0.1, -0.5)
    assert (config["space"], config["cpus_per_trial"], config["seed"], config["runner"]) == ("paper", 2.0, 3, "inline")


def test_the_job_section_keeps_the_records_checks(tmp_path):
    with pytest.raises(InputError, match=r"\[search\] trials"):
        parse_job(JOB.replace("trials = 4", "trials = 0"))
    with pytest.raises(InputError, match=r"\[search\] scheduler must be one of"):
        parse_job(JOB + 'scheduler = "sometimes"\n')
    with pytest.raises(InputError, match=r"\[search\] alpha"):
        parse_job(JOB.replace("alpha = -0.1", 'alpha = "low"'))


def test_one_key_value_parser():
    assert parse_pairs(["epochs=2", " lr = 0.01 ", "dataset=mnist", "flag=true", "epochs=3"], "--opt") == \
        {"epochs": 3, "lr": 0.01, "dataset": "mnist", "flag": True}
    for bad in ("novalue", "=3", " =3"):
        with pytest.raises(InputError, match="--opt expects KEY=VALUE"):
            parse_pair(bad, "--opt")
    assert parse_config(['{"a": 1}', "b=[1, 2]"]) == {"a": 1, "b": [1, 2]}
    with pytest.raises(InputError, match="JSON objects, JSON files or key=value"):
        parse_config(["novalue"])


def test_resume_rules_live_in_one_module():
    stored = migrate.SEARCH.upgrade({"target": 400, "trials": 10})  # (a run older than bands and schedulers)
    assert stored["synchronous"] is False and stored["band"] is None
    assert migrate.SEARCH.differences(stored, {**stored, "trials": 60, "runner": "ray"}) == []
    assert migrate.SEARCH.differences(stored, {**stored, "target": 500}) == ["target"]
    old_grid = {"base": "b0", "phi": 1}  # predates match_macs and the scheduler
    assert migrate.GRID.differences(old_grid, {**old_grid, "match_macs": False, "scheduler": None}) == []
    assert migrate.GRID.differences(old_grid, {**old_grid, "match_macs": True}) == ["match_macs"]
    assert migrate.TRAIN.differences({"arch": [1, 2]}, {"arch": (1, 2)}) == []  # (as JSON)


def test_the_reporter_is_silent_by_default_and_filters_epochs():
    assert SILENT.step is None and not SILENT.wants(1)
    seen = []
    rungs = Reporter.epochs(seen.append, at=[1, 3])
    assert [rungs.wants(e) for e in (1, 2, 3)] == [True, False, True]
    assert Reporter.epochs(seen.append).wants(7)


def test_the_train_section_is_a_view_of_the_run_options():
    from effnas.jobs import TrainSection
    from nas.training.options import TrainOptions

    assert set(fields_of(TrainSection)) == set(fields_of(TrainOptions)) | {"members", "recipe", "options"}
    text = ('[job]\nname = "t"\n[family]\nbase = "efficientnet-b0"\nphis = [0]\n'
            '[train]\ndata = "digits"\nloader_workers = 0\nepochs = 0\n')
    with pytest.raises(InputError, match=r"\[train\] epochs must be in"):
        parse_job(text)
    assert parse_job(text.replace("epochs = 0", "epochs = 2")).sections["train"]["loader_workers"] == 0


def test_the_grid_section_and_flags_are_views_of_the_grid_options():
    from effnas.cli import build_parser
    from effnas.jobs import GridSection
    from scaling.grid_options import GridOptions

    assert set(fields_of(GridSection)) == set(fields_of(GridOptions)) | {"base", "evaluator", "coefficients",
                                                                         "evaluator_config"}
    args = build_parser().parse_args(["grid", "--base", "efficientnet-b0", "--evaluator", "zero-cost", "--out", "x"])
    assert (args.phi, args.step, args.tolerance) == (GridOptions.phi, GridOptions.step, GridOptions.tolerance)
    assert args.levels == "2,4"
    with pytest.raises(InputError, match=r"\[grid\] step must be positive"):
        parse_job('[job]\n[grid]\nbase = "efficientnet-b0"\nstep = 0\n')


def test_strategy_options_are_a_record_checked_before_the_search():
    from nas.strategies import read_strategy_options

    assert read_strategy_options("ppo", {"batch": "5"})["batch"] == 5  # (typed on a command line)
    assert read_strategy_options("evolution", {}) == {"population": 20, "sample": 5}
    with pytest.raises(InputError, match="unknown option.*'popsize'.*evolution"):
        resolve_config(target=400e6, strategy="evolution", strategy_options={"popsize": 3})
    with pytest.raises(InputError, match="strategy option 'lr' must be in"):
        resolve_config(target=400e6, strategy="ppo", strategy_options={"lr": -1})


def test_every_search_option_has_a_flag_of_its_name():
    from effnas.cli import build_parser

    args = build_parser().parse_args(["search", "--target", "400M", "--out", "x"])
    tables = {"scheduler_options": "scheduler_opt", "evaluator_config": "eval_opt", "strategy_options": "strategy_opt"}
    assert all(hasattr(args, tables.get(key, key)) for key in SEARCH_KEYS)
