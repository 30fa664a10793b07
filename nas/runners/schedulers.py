"""Trial schedulers (`--scheduler asha|hyperband`): which, with what options, and how a runner drives one.

Early stopping (`--scheduler asha|hyperband`, a :class:`Scheduling`): an evaluator that reports
per epoch (its module has ``epochs(config)`` and it calls its Reporter's ``epoch``: the proxy) gives the
trial's row after each of the scheduler's rung epochs (``Scheduling.rung_epochs``: the scheduler
decides nowhere else — a report between rungs finds its rung already recorded and continues — so
the decisions are those of a report after every epoch, without the held-out evaluations between);
the runner hands each to Ray Tune's scheduler, with the epoch as its time attribute and "metric"
(max) as its metric, and the scheduler may stop the trial there. Rows under a scheduler add
"stopped" (true: the scheduler ended it), "epochs" (the epoch its metric was measured after: max_t
for a trial that ran to the end), "epoch_metrics" (the held-out metric after each report) and
"metric_epochs" (the epochs of those reports; rows written before it existed reported after every
epoch). A stopped trial's row is its last report: its metric, and so its reward, is the held-out
accuracy at the epoch it reached. Without a scheduler rows are as they always were (no per-epoch
evaluation, no extra keys).

The runners drive the same scheduler object: Ray through Tune (``TuneConfig(scheduler=...)``),
the inline runner by calling it exactly as Tune's controller does (:class:`Referee`:
on_trial_add, on_trial_result per report, on_trial_complete with the last one). With trials
running one at a time the scheduler therefore sees the same results in the same order inline and
on Ray with one worker, and makes the same decisions. A resumed run replays its finished rows'
epoch metrics into a fresh scheduler first (``Scheduling.history``), which restores the state an
uninterrupted one-at-a-time run had. With several trials at once, the decisions depend on the
order results arrive in (ASHA compares a result with those already at its rung).

``hyperband`` is Ray's asynchronous HyperBand (ASHA over several brackets, Li et al. 2020), not
the synchronous ``HyperBandScheduler``: that one pauses trials and resumes them from checkpoints,
and a proxy trial keeps none. A trial's bracket is drawn from a generator seeded by its key (Ray
draws it from numpy's global one), so it does not depend on the run either.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from search_spaces import InputError
from search_spaces.bounds import MAX_BRACKETS, MAX_GRACE_EPOCHS, MAX_REDUCTION_FACTOR
from search_spaces.schema import Style, python_names, read, spec

if TYPE_CHECKING:
    from .trial import OnEpoch

SCHEDULERS = ("none", "asha", "hyperband")


def _epochs(evaluator: str, evaluator_config: Mapping[str, Any]) -> int | None:
    """The epochs a trial of `evaluator` trains (max_t), or None when it does not report per epoch."""
    from .trial import epoch_module  # (imports the evaluators: torch)

    module = epoch_module(evaluator)
    return None if module is None else int(module.epochs(evaluator_config))


def _grace(value: int, what: str) -> None:
    if not 1 <= value <= MAX_GRACE_EPOCHS:
        raise InputError(f"{what} must be in 1..{MAX_GRACE_EPOCHS} epochs, got {value}")


def _factor(value: float, what: str) -> None:
    if not (math.isfinite(value) and 1.0 < value <= MAX_REDUCTION_FACTOR):
        raise InputError(f"{what} must be in (1, {MAX_REDUCTION_FACTOR:g}], got {value!r}")


def _brackets(value: int, what: str) -> None:
    if not 1 <= value <= MAX_BRACKETS:
        raise InputError(f"{what} must be in 1..{MAX_BRACKETS}, got {value}")


@dataclass(frozen=True)
class SchedulerOptions:
    """A trial scheduler's options: ASHA's (Ray Tune's names), and HyperBand's brackets."""

    grace_period: int = spec(1, check=_grace)  # epochs before a trial can be stopped (the first rung)
    reduction_factor: float = spec(3.0, check=_factor)  # rungs grace * rf^k; 1 in rf goes on at each
    brackets: int | None = spec(None, check=_brackets)  # hyperband: default every bracket that has a rung


STYLE = Style(name="scheduler option {key!r}", unknown="unknown scheduler option(s) {listed}; known: {known}",
              type_names=python_names, coerce=True)


def check_scheduler(name: str | None, options: Mapping[str, Any] | None, evaluator: str,
                    evaluator_config: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """(scheduler name, its options with every default filled in) of a run's config; (None, {}) for
    none. InputError: an unknown name or option, a bad value, an evaluator that does not report per
    epoch, a grace period beyond the evaluator's epochs, brackets without a rung."""
    if name is None or name == "none":
        if options:
            raise InputError("scheduler options need --scheduler asha or hyperband")
        return None, {}
    if name not in SCHEDULERS:
        raise InputError(f"unknown scheduler {name!r}; known: {', '.join(SCHEDULERS)}")
    if options is not None and not isinstance(options, Mapping):
        raise InputError(f"scheduler options must be a table of key = value, got {options!r}")
    values = read(SchedulerOptions, options or {}, "", STYLE)
    max_t = _epochs(evaluator, evaluator_config)
    if max_t is None:
        raise InputError(f"--scheduler {name} needs an evaluator that reports per epoch (proxy); "
                         f"{evaluator} does not")
    if values["grace_period"] > max_t:
        raise InputError(f"scheduler grace_period {values['grace_period']} is more than the {max_t} epoch(s) a "
                         f"trial trains (evaluator option epochs)")
    if values["grace_period"] == max_t:
        raise InputError(f"a trial trains {max_t} epoch(s), as many as grace_period: no rung for --scheduler {name} "
                         "to stop at (train longer: evaluator options epochs, stop_after)")
    most = int(math.log(max_t / values["grace_period"]) / math.log(values["reduction_factor"]) + 1e-9) + 1
    if name == "asha":
        if values["brackets"] not in (None, 1):
            raise InputError("scheduler option 'brackets' is hyperband's (asha has one bracket)")
        values["brackets"] = 1
    elif values["brackets"] is None:
        values["brackets"] = most
    elif values["brackets"] > most:
        raise InputError(f"scheduler option 'brackets' must be at most {most} for {max_t} epochs, grace_period "
                         f"{values['grace_period']} and reduction_factor {values['reduction_factor']:g} "
                         "(a bracket beyond has no rung)")
    values["reduction_factor"] = float(values["reduction_factor"])
    return name, values


@dataclass(frozen=True)
class Scheduling:
    """A trial scheduler as the runners take it (module docstring): Ray's AsyncHyperBandScheduler
    with time "epoch", metric "metric" (max), `max_t` the evaluator's epochs; `history`: rows of
    trials already finished, replayed into it in order before any trial runs (a resumed run)."""

    name: str
    max_t: int
    grace_period: int = 1
    reduction_factor: float = 3.0
    brackets: int = 1
    history: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_config(cls, name: str | None, options: Mapping[str, Any] | None, evaluator: str,
                    evaluator_config: Mapping[str, Any], history: Sequence[dict[str, Any]] = ()) -> Scheduling | None:
        """The scheduler a run's config names (None for none), checked (`check_scheduler`)."""
        name, values = check_scheduler(name, options, evaluator, evaluator_config)
        if name is None:
            return None
        max_t = _epochs(evaluator, evaluator_config)
        return cls(name, max_t, values["grace_period"], values["reduction_factor"], values["brackets"],
                   tuple(history))

    def rung_epochs(self) -> tuple[int, ...]:
        """The epochs before max_t at which a rung of any bracket falls, where trials report: bracket s
        has rungs grace · rf^(k+s) for k < ⌊log(max_t / grace) / log rf⌋ − s + 1 (Ray's _Bracket),
        and a rung at a fractional epoch is reached by the report after the epoch that passes it."""
        count = int(math.log(self.max_t / self.grace_period) / math.log(self.reduction_factor) + 1 + 1e-9)
        milestones = {self.grace_period * self.reduction_factor ** k for k in range(count)}
        return tuple(sorted({math.ceil(m - 1e-9) for m in milestones if m < self.max_t}))

    def build(self) -> Any:
        """A fresh Ray Tune scheduler, with the history replayed into it."""
        from ray.tune.schedulers import AsyncHyperBandScheduler

        class KeyedBrackets(AsyncHyperBandScheduler):
            """ASHA whose bracket for a trial is drawn from a generator seeded by the trial's key."""

            def on_trial_add(self, tune_controller: Any, trial: Any) -> None:
                import numpy as np

                sizes = np.array([len(bracket._rungs) for bracket in self._brackets])
                weights = np.e ** (sizes - sizes.max())
                key = str(getattr(trial, "config", {}).get("key", trial.trial_id))
                rng = np.random.default_rng(zlib.crc32(key.encode()))
                chosen = int(rng.choice(len(sizes), p=weights / weights.sum()))
                self._trial_info[trial.trial_id] = self._brackets[chosen]

        scheduler = KeyedBrackets(time_attr="epoch", metric="metric", mode="max", max_t=self.max_t,
                                  grace_period=self.grace_period, reduction_factor=self.reduction_factor,
                                  brackets=self.brackets, stop_last_trials=True)
        referee = Referee(scheduler)
        for row in self.history:
            referee.replay(row)
        return scheduler


class TrialStopped(Exception):
    """Raised from a trial's epoch report when the scheduler stops it (the inline runner)."""


class _Trial:
    """What a Ray scheduler reads of a trial: its id and config."""

    def __init__(self, key: str) -> None:
        self.trial_id, self.config = key, {"key": key}


def _result(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"epoch": row["epochs"], "metric": row["metric"]}


class Referee:
    """A Ray Tune scheduler driven as Tune's controller drives it (on_trial_add; on_trial_result for
    each report until it says STOP, as it does at max_t; on_trial_complete with the last result),
    for trials run one after another: the inline runner, and a resumed run's history."""

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler

    def _stops(self, trial: _Trial, row: Mapping[str, Any]) -> bool:
        return self.scheduler.on_trial_result(None, trial, _result(row)) == "STOP"

    def run(self, key: str, evaluate: Callable[[OnEpoch], dict[str, Any]]) -> dict[str, Any]:
        """The row of trial `key`: `evaluate(on_epoch)` runs it, stopped where the scheduler says."""
        trial = _Trial(key)
        self.scheduler.on_trial_add(None, trial)
        last: list[dict[str, Any]] = []

        def on_epoch(row: dict[str, Any]) -> None:
            last[:] = [row]
            if self._stops(trial, row):
                raise TrialStopped(key)

        try:
            row = evaluate(on_epoch)
            self._stops(trial, row)
        except TrialStopped:
            row = last[0]
        self.scheduler.on_trial_complete(None, trial, _result(row))
        return row

    def replay(self, row: Mapping[str, Any]) -> None:
        """Tell the scheduler a finished trial's reports again (a row without epoch metrics: nothing)."""
        metrics = row.get("epoch_metrics")
        if not metrics or "epochs" not in row:
            return
        trial = _Trial(str(row["trial"]))
        self.scheduler.on_trial_add(None, trial)
        epochs = row.get("metric_epochs") or list(range(1, len(metrics)))  # (older rows: after every epoch)
        reports = [{"epochs": epoch, "metric": metric} for epoch, metric in zip(epochs, metrics[:-1], strict=False)]
        reports.append({"epochs": row["epochs"], "metric": metrics[-1]})
        for report in reports:
            if self._stops(trial, report):
                break
        self.scheduler.on_trial_complete(None, trial, _result(report))
