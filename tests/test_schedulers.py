"""Trial schedulers (early stopping, nas.runners.trial): --scheduler and the JOB.toml keys checked,
the proxy's per-epoch reports, stopped trials in the ledger (epochs reached, last metric, reward
from it), what the strategy observes, reproducibility and resume of seeded searches with a
scheduler (inline: the Ray scheduler emulated; on Ray with one worker: the same ledger, slow)."""

from __future__ import annotations

import pytest
import search_helpers
from search_helpers import content

import nas.search
from nas.evaluators import EVALUATORS, register
from nas.evaluators.reporter import SILENT, Reporter
from nas.ledger import Ledger
from nas.objective import Objective
from nas.runners.schedulers import Scheduling, check_scheduler
from nas.search import resolve_config, run_search
from search_spaces import InputError


# ---------------------------------------------------------------------- a cheap evaluator that reports per epoch
def epochs(config) -> int:
    return int(config.get("epochs", 3))


def epoch_metric(arch, config, reporter=SILENT):
    """search_helpers' cheap metric, reached over `epochs` epochs (half of it after none)."""
    final = search_helpers.cheap_metric(arch, config)["metric"]
    total = epochs(config)
    for epoch in range(1, total):
        if reporter.wants(epoch):
            reporter.epoch({"metric": final * (0.5 + 0.5 * epoch / total), "evaluator": "test-epochs", "epoch": epoch})
    return {"metric": final, "evaluator": "test-epochs"}


def _install() -> str:
    if "test-epochs" not in EVALUATORS:
        register("test-epochs", "test_schedulers:epoch_metric")
    return "test-epochs"


TINY_PROXY = {"dataset": "digits", "resolution": 16, "subset": 120, "epochs": 3, "batch": 32, "val_size": 100,
              "threads": 1}


def config(trials: int = 10, scheduler: str | None = "asha", evaluator: str | None = None, **extra):
    extra.setdefault("strategy_options", {"batch": 3})
    if evaluator is None:
        evaluator = _install()
        extra.setdefault("evaluator_config", {"epochs": 4})
    extra.setdefault("strategy", "ppo")
    return resolve_config(None, target=400_000_000, evaluator=evaluator, trials=trials, seed=5, scheduler=scheduler,
                          **extra)




# ---------------------------------------------------------------------- checked input
def test_scheduler_options_are_checked():
    evaluator = _install()
    assert check_scheduler(None, None, evaluator, {}) == (None, {})
    assert check_scheduler("none", {}, evaluator, {}) == (None, {})
    assert check_scheduler("asha", None, evaluator, {"epochs": 4}) == (
        "asha", {"grace_period": 1, "reduction_factor": 3.0, "brackets": 1})
    assert check_scheduler("hyperband", None, evaluator, {"epochs": 9})[1]["brackets"] == 3  # rungs 1, 3, 9
    assert check_scheduler("asha", {"grace_period": "2", "reduction_factor": 2}, evaluator, {"epochs": 4})[1] == {
        "grace_period": 2, "reduction_factor": 2.0, "brackets": 1}
    bad = [("bogus", None, {}, "unknown scheduler 'bogus'"),
           ("none", {"grace_period": 1}, {}, "need --scheduler asha or hyperband"),
           ("asha", {"grace": 1}, {}, "unknown scheduler option"),
           ("asha", {"grace_period": 0}, {}, "grace_period"),
           ("asha", {"reduction_factor": 1}, {}, "reduction_factor"),
           ("asha", {"grace_period": 5}, {"epochs": 4}, "more than the 4 epoch"),
           ("asha", {"grace_period": 4}, {"epochs": 4}, "no rung"),
           ("asha", {"brackets": 2}, {"epochs": 9}, "hyperband's"),
           ("hyperband", {"brackets": 4}, {"epochs": 9}, "at most 3"),
           ("asha", "fast", {}, "table")]
    for name, options, evaluator_config, message in bad:
        with pytest.raises(InputError, match=message):
            check_scheduler(name, options, evaluator, evaluator_config)
    with pytest.raises(InputError, match="reports per epoch"):
        check_scheduler("asha", None, "zero-cost", {})


def test_search_config_and_cli_flag(tmp_path, run_cli):
    assert config(scheduler=None)["scheduler"] is None and config(scheduler=None)["scheduler_options"] == {}
    assert config(scheduler="none")["scheduler"] is None
    assert config(scheduler_options={"grace_period": 2})["scheduler_options"]["grace_period"] == 2
    code, out, err = run_cli("search", "--target", "400M", "--evaluator", "zero-cost", "--scheduler", "asha",
                             "--trials", "2", "--out", tmp_path / "a")
    assert code == 2 and err.count("\n") == 1 and "reports per epoch" in err
    code, out, err = run_cli("search", "--target", "400M", "--evaluator", "proxy", "--scheduler", "fast",
                             "--trials", "2", "--out", tmp_path / "b")
    assert code == 2 and "unknown scheduler 'fast'" in err and err.count("\n") == 1
    code, out, err = run_cli("search", "--target", "400M", "--evaluator", "proxy", "--scheduler", "asha",
                             "--scheduler-opt", "grace_period=9", "--trials", "2", "--out", tmp_path / "c")
    assert code == 2 and "grace_period 9 is more than the 3 epoch(s)" in err
    code, out, err = run_cli("search", "--preset", "b0-local", "--scheduler", "asha", "--trials", "2",
                             "--out", tmp_path / "d")  # b0-local's proxy stops after 1 epoch: nothing to cut
    assert code == 2 and err.count("\n") == 1 and "no rung" in err
    assert not any((tmp_path / name).exists() for name in "acd")


def test_job_toml_keys(tmp_path):
    from effnas.jobs import parse_job
    from effnas.stages import search_config

    head = '[job]\nrunner = "inline"\n'
    job = parse_job(head + '[search]\ntarget = "400M"\nevaluator = "proxy"\nscheduler = "asha"\n'
                    'scheduler_options = {grace_period = 2}\n[grid]\nscheduler = "hyperband"\n')
    assert job.section("search")["scheduler"] == "asha" and job.section("grid")["scheduler"] == "hyperband"
    config = search_config(job)
    assert config["scheduler"] == "asha" and config["scheduler_options"]["grace_period"] == 2
    assert parse_job(head + '[search]\ntarget = "400M"\n').section("search")["scheduler"] is None
    with pytest.raises(InputError, match=r"\[search\] scheduler must be one of none, asha, hyperband"):
        parse_job(head + '[search]\nscheduler = "median"\n')
    with pytest.raises(InputError, match=r"\[grid\] scheduler_options must be"):
        parse_job(head + '[grid]\nbase = "efficientnet-b0"\nscheduler_options = 3\n')
    job = parse_job(head + '[search]\ntarget = "400M"\nevaluator = "proxy"\nscheduler = "asha"\n'
                    'scheduler_options = {grace_period = 7}\n')
    with pytest.raises(InputError, match="grace_period 7 is more than"):
        search_config(job)


# ---------------------------------------------------------------------- the proxy's epoch reports
def test_proxy_reports_each_epoch_without_changing_its_result():
    from nas.evaluators import proxy
    from search_spaces import load_arch

    arch = load_arch("efficientnet-b0")
    options = {**TINY_PROXY, "drop_connect": 0.2}  # (drop-connect draws random numbers in the BN recalibration)
    plain = proxy.evaluate(arch, options)
    reports: list[dict] = []
    hooked = proxy.evaluate(arch, options, Reporter.epochs(reports.append))
    assert [r["epoch"] for r in reports] == [1, 2] and hooked["epoch"] == proxy.epochs(options) == 3
    assert hooked["metric"] == plain["metric"] and hooked["epoch_losses"] == plain["epoch_losses"]
    assert "epoch" not in plain and "epoch_eval_seconds" not in plain
    assert all(0.0 <= r["metric"] <= 1.0 and r["steps"] == 4 * r["epoch"] for r in reports)
    at_two: list[dict] = []
    # (a scheduler's rungs: no held-out pass after epoch 1)
    sparse = proxy.evaluate(arch, options, Reporter.epochs(at_two.append, at=[2]))
    assert [r["epoch"] for r in at_two] == [2] and at_two[0]["metric"] == reports[1]["metric"]
    assert sparse["metric"] == plain["metric"] and sparse["epoch_losses"] == plain["epoch_losses"]
    assert proxy.epochs({"epochs": 2.5}) == 3 and proxy.epochs({"epochs": 0.5}) == 1


# ---------------------------------------------------------------------- searches with a scheduler (inline)
def test_asha_records_stopped_trials_and_the_strategy_learns_from_them(tmp_path):
    run_search(config(trials=12), tmp_path / "asha")
    rows = Ledger(tmp_path / "asha").read()
    assert len(rows) == 12
    stopped = [row for row in rows if row["stopped"]]
    assert 0 < len(stopped) < 12
    objective = Objective.from_config(config())
    for row in rows:  # (4 epochs, grace 1, reduction factor 3: rungs at epochs 1 and 3, reports only there)
        assert row["metric_epochs"] == [e for e in (1, 3) if e <= row["epochs"]] + ([] if row["stopped"] else [4])
        assert len(row["epoch_metrics"]) == len(row["metric_epochs"])
        assert row["metric"] == row["epoch_metrics"][-1]
        assert row["reward"] == pytest.approx(objective.reward(row["metric"], row["macs"]))
    assert all(row["epochs"] < 4 for row in stopped)
    assert all(not row["stopped"] and row["epochs"] == 4 for row in rows if row not in stopped)
    import torch

    saved = torch.load(tmp_path / "asha" / "strategy.pt", weights_only=True)
    assert len(saved["keys"]) == 12  # every trial, stopped ones included, observed


def test_rung_epochs_are_the_brackets_milestones():
    evaluator = _install()

    def rungs(name, options, epochs):
        return Scheduling.from_config(name, options, evaluator, {"epochs": epochs}).rung_epochs()

    assert rungs("asha", None, 4) == rungs("asha", None, 9) == (1, 3) and rungs("asha", None, 27) == (1, 3, 9)
    assert rungs("hyperband", None, 9) == (1, 3)  # (brackets 0-2: rungs {1, 3, 9}, {3, 9}, {9}; 9 is max_t)
    assert rungs("asha", {"reduction_factor": 2.5}, 10) == (1, 3, 7)  # milestones 1, 2.5, 6.25
    assert rungs("asha", {"grace_period": 2, "reduction_factor": 2}, 4) == (2,)
    with pytest.raises(InputError, match="no rung"):  # a trial as long as the grace period: nothing to cut
        rungs("asha", {"grace_period": 3}, 3)


def test_reports_at_the_rungs_only_decide_as_reports_after_every_epoch(tmp_path, monkeypatch):
    """The scheduler decides only at its rungs, so skipping the held-out evaluations between them
    changes no decision: the same trials stop at the same epochs with the same metrics."""
    run_search(config(trials=12, evaluator_config={"epochs": 9}), tmp_path / "rungs")
    monkeypatch.setattr(Scheduling, "rung_epochs", lambda self: tuple(range(1, self.max_t)))
    run_search(config(trials=12, evaluator_config={"epochs": 9}), tmp_path / "every")
    rungs, every = (Ledger(tmp_path / name).read() for name in ("rungs", "every"))
    assert any(row["stopped"] for row in rungs) and any(not row["stopped"] for row in rungs)
    assert [(r["trial"], r["stopped"], r["epochs"], r["metric"], r["reward"]) for r in rungs] == \
        [(r["trial"], r["stopped"], r["epochs"], r["metric"], r["reward"]) for r in every]
    assert max(len(row["epoch_metrics"]) for row in rungs) == 3 < max(len(row["epoch_metrics"]) for row in every)


def test_no_scheduler_rows_are_unchanged(tmp_path):
    run_search(config(trials=3, scheduler=None), tmp_path / "plain")
    rows = Ledger(tmp_path / "plain").read()
    assert all(not {"stopped", "epochs", "epoch_metrics", "metric_epochs"} & set(row) for row in rows)
    assert all("epoch_eval_seconds" not in row["details"] for row in rows)


@pytest.mark.parametrize("scheduler", ["asha", "hyperband"])
def test_seeded_search_with_a_scheduler_is_reproducible(tmp_path, scheduler):
    options = {"evaluator_config": {"epochs": 9}} if scheduler == "hyperband" else {}
    run_search(config(trials=9, scheduler=scheduler, **options), tmp_path / "a")
    run_search(config(trials=9, scheduler=scheduler, **options), tmp_path / "b")
    assert content(tmp_path / "a") == content(tmp_path / "b")
    assert any(row["stopped"] for row in content(tmp_path / "a"))


def test_killed_search_with_asha_resumes_to_the_same_ledger(tmp_path, monkeypatch):
    """Killed after 5 results (mid-generation), resumed: the finished rows (stopped ones too) are
    not run again, and the scheduler, replayed from them, decides as in an uninterrupted run."""
    run_search(config(trials=12), tmp_path / "whole")
    real_run = nas.search.run
    evaluated: list[str] = []

    def killed_after(limit):
        def run(runner, source, on_result, *args, **options):
            def record(row):
                if len(evaluated) >= limit:
                    raise KeyboardInterrupt
                evaluated.append(row["trial"])
                on_result(row)
            return real_run(runner, source, record, *args, **options)
        return run

    monkeypatch.setattr(nas.search, "run", killed_after(5))
    with pytest.raises(KeyboardInterrupt):
        run_search(config(trials=12), tmp_path / "killed")
    monkeypatch.setattr(nas.search, "run", killed_after(100))
    run_search(config(trials=12), tmp_path / "killed", resume=True)
    assert content(tmp_path / "killed") == content(tmp_path / "whole")
    assert len(evaluated) == len(set(evaluated)) == 12


def test_scheduler_replay_restores_its_decisions():
    """A scheduler built with a history decides on the next trial as one that saw it live."""
    evaluator = _install()
    rows = [{"trial": f"t{i}", "epochs": 3, "metric": m, "epoch_metrics": [m / 2, m * 0.8, m]}
            for i, m in enumerate((0.9, 0.5, 0.7))]
    live = Scheduling.from_config("asha", {"reduction_factor": 2}, evaluator, {"epochs": 3}).build()
    from nas.runners.schedulers import Referee

    referee = Referee(live)
    for row in rows:
        referee.replay(row)
    replayed = Scheduling.from_config("asha", {"reduction_factor": 2}, evaluator, {"epochs": 3}, rows).build()
    assert [[sorted(recorded.values()) for _, recorded in bracket._rungs] for bracket in live._brackets] == \
        [[sorted(recorded.values()) for _, recorded in bracket._rungs] for bracket in replayed._brackets]


def test_grid_with_a_scheduler(tmp_path):
    from scaling.grid import run_grid

    evaluator = _install()
    common = {"phi": 1.0, "step": 0.25, "tolerance": 0.15, "plot": False, "single_dimension": False}
    result = run_grid("efficientnet-b0", evaluator, {"epochs": 4}, tmp_path / "g", scheduler="asha", **common)
    rows = Ledger(tmp_path / "g").read()
    assert rows and all("stopped" in row for row in rows) and any(row["stopped"] for row in rows)
    assert result["best"]
    with pytest.raises(InputError, match="scheduler differ"):
        run_grid("efficientnet-b0", evaluator, {"epochs": 4}, tmp_path / "g", **common)
    run_grid("efficientnet-b0", evaluator, {"epochs": 4}, tmp_path / "plain", **common)
    assert all("stopped" not in row for row in Ledger(tmp_path / "plain").read())


# ---------------------------------------------------------------------- on Ray
@pytest.mark.slow
def test_ray_asha_one_worker_writes_the_inline_ledger(tmp_path):
    """The tiny proxy under ASHA on Ray with one worker: trials stopped at the epoch the emulated
    scheduler stops them, the same ledger as inline (results reach the scheduler in one order)."""
    options = {"evaluator_config": TINY_PROXY, "strategy": "random", "strategy_options": {}}
    run_search(config(trials=8, evaluator="proxy", **options), tmp_path / "inline")
    run_search(config(trials=8, evaluator="proxy", runner="ray", max_concurrent=1, **options), tmp_path / "ray")
    rows = content(tmp_path / "ray")
    assert any(row["stopped"] for row in rows)
    assert rows == content(tmp_path / "inline")


def test_cli_search_with_asha_and_its_resume(tmp_path, run_cli):
    """`effnas search --scheduler asha` inline on the tiny proxy; --resume keeps the stored scheduler
    and options without repeating them (and refuses another scheduler)."""
    out = tmp_path / "run"
    options = [f"--eval-opt={key}={value}" for key, value in TINY_PROXY.items()]
    common = ["search", "--target", "400M", "--evaluator", "proxy", "--strategy", "random", "--quiet", "--out", out,
              *options]
    code, _, err = run_cli(*common, "--trials", "4", "--scheduler", "asha", "--scheduler-opt", "reduction_factor=2")
    assert code == 0, err
    code, _, err = run_cli("search", "--out", out, "--resume", "--trials", "6", "--quiet")
    assert code == 0, err
    rows = Ledger(out).read()
    assert len(rows) == 6 and all("stopped" in row for row in rows)
    code, _, err = run_cli("search", "--out", out, "--resume", "--trials", "7", "--scheduler", "none")
    assert code == 2 and "differs in scheduler" in err
