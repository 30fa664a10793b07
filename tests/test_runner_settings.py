"""RunnerSettings (nas.runners.settings): the one validated, frozen record of how trials run, and
the keyword options each caller (search, batch, grid, pipeline stages) hands `nas.runners.run`."""

from __future__ import annotations

import dataclasses
import math

import pytest
import search_helpers

import nas.batch
import nas.search
from nas.runners import RUNNERS, RunnerSettings
from nas.runners.trial import evaluate_trial
from nas.search import resolve_config, run_search
from search_spaces import InputError, load_arch


def test_defaults_are_one_inline_cpu_and_frozen():
    settings = RunnerSettings()
    assert settings == RunnerSettings("inline", None, None, 1.0, 0.0)
    assert settings.run_options() == {"cpus_per_trial": 1.0}
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.runner = "ray"  # type: ignore[misc]
    assert RUNNERS == ("inline", "ray")


def test_resources_are_floats():
    settings = RunnerSettings("ray", cpus_per_trial=2, gpus_per_trial=1)
    assert isinstance(settings.cpus_per_trial, float) and isinstance(settings.gpus_per_trial, float)


@pytest.mark.parametrize("fields, message", [
    ({"runner": "slurm"}, "unknown runner 'slurm'; known: inline, ray"),
    ({"max_concurrent": 0}, "max concurrent trials must be >= 1, got 0"),
    ({"runner": "ray", "max_concurrent": -3}, "max concurrent trials must be >= 1, got -3"),
    ({"cpus_per_trial": 0}, "cpus per trial must be positive, got 0"),
    ({"cpus_per_trial": math.nan}, "cpus per trial must be positive, got nan"),
    ({"gpus_per_trial": -1}, "gpus per trial must be >= 0, got -1"),
    ({"gpus_per_trial": math.nan}, "gpus per trial must be >= 0, got nan"),
])
def test_one_validation_with_the_messages_of_before(fields, message):
    with pytest.raises(InputError) as error:
        RunnerSettings(**fields)
    assert str(error.value) == message
    with pytest.raises(InputError) as error:  # resolve_config refuses them with the same words
        resolve_config(None, target=400_000_000, evaluator="zero-cost", **fields)
    assert str(error.value) == message


def test_run_options_carry_the_ray_keys_only_for_ray():
    inline = RunnerSettings("inline", "10.0.0.1:6379", 4, 2.0, 1.0)
    assert inline.run_options() == {"cpus_per_trial": 2.0}
    ray = RunnerSettings("ray", "10.0.0.1:6379", 4, 2.0, 1.0)
    assert ray.run_options() == {"cpus_per_trial": 2.0, "ray_address": "10.0.0.1:6379", "max_concurrent": 4,
                                 "gpus_per_trial": 1.0}


def test_from_a_search_config():
    config = resolve_config(None, target=400_000_000, evaluator="zero-cost", runner="ray", max_concurrent=3,
                            cpus_per_trial=2.0, gpus_per_trial=0.5)
    assert RunnerSettings.from_config(config, "auto") == RunnerSettings("ray", "auto", 3, 2.0, 0.5)
    legacy = {k: v for k, v in config.items() if k not in ("gpus_per_trial", "max_concurrent")}
    assert RunnerSettings.from_config(legacy) == RunnerSettings("ray", None, None, 2.0, 0.0)


class Recorder:
    """A stand-in for `nas.runners.run`: evaluates inline, remembering what it was called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, runner, source, on_result, evaluator, evaluator_config, **options):
        self.calls.append((runner, options))
        while (item := source()) is not None:
            key, arch = item
            on_result(evaluate_trial(key, arch.to_dict(), evaluator, evaluator_config, threads=1))
        return []


@pytest.mark.parametrize("runner, expected", [
    ("inline", {"cpus_per_trial": 2.0}),
    ("ray", {"cpus_per_trial": 2.0, "ray_address": "10.0.0.1:6379", "max_concurrent": 3, "gpus_per_trial": 0.5}),
])
def test_run_search_hands_run_its_settings(tmp_path, monkeypatch, runner, expected):
    recorder = Recorder()
    monkeypatch.setattr(nas.search, "run", recorder)
    config = resolve_config(None, target=400_000_000, strategy="random", evaluator=search_helpers.install(),
                            evaluator_config={}, trials=2, runner=runner, max_concurrent=3, cpus_per_trial=2.0,
                            gpus_per_trial=0.5)
    assert run_search(config, tmp_path / "run", ray_address="10.0.0.1:6379")["done"] == 2
    [(name, options)] = recorder.calls
    assert name == runner and callable(options.pop("on_failure")) and options == expected


@pytest.mark.parametrize("settings, expected", [
    (None, ("inline", {"cpus_per_trial": 1.0})),
    (RunnerSettings("ray", max_concurrent=2),
     ("ray", {"cpus_per_trial": 1.0, "ray_address": None, "max_concurrent": 2, "gpus_per_trial": 0.0})),
])
def test_evaluate_batch_hands_run_its_settings(tmp_path, monkeypatch, settings, expected):
    recorder = Recorder()
    monkeypatch.setattr(nas.batch, "run", recorder)
    rows = nas.batch.evaluate_batch([("b0", load_arch("efficientnet-b0"))], search_helpers.install(), {}, tmp_path,
                                    settings)
    assert [row["trial"] for row in rows] == ["b0"] and recorder.calls == [expected]


def test_stage_functions_table_is_not_called_runners():
    from effnas import stages

    assert set(stages.STAGE_FUNCTIONS) == {"search", "grid", "family", "train", "detectors"}
    assert not hasattr(stages, "RUNNERS")
