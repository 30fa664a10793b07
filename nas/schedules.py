"""When a search's strategy proposes and what it observes: asynchronous or synchronous.

A schedule sits between the strategy and the runner: `next()` gives the runner the next
candidate (key, tokens) or None (none now: nothing more, or wait for the trials in flight),
`finished(row)` takes a trial's row (with its reward), `failed(key)` a trial that failed for good.
It calls `record(row)` to write a row to the ledger and `save(keys)` when the strategy has
observed `keys` and its state should be saved.

- ``AsyncSchedule`` (clusters, `--async`): a new candidate whenever a runner slot is free, each
  result observed as it arrives. Workers never wait, but what the strategy learns from depends on
  the order results arrive in (the runner, the number of workers, the machines' load).
- ``SyncSchedule`` (the default): generations of B candidates. The strategy proposes B; all of
  them run (in parallel on Ray); when every one has finished (or failed for good) their results
  are observed in trial-id order and the strategy's state saved, then the next generation is
  proposed. What the strategy sees does not depend on the order results arrive in, so a seeded
  search writes the same trials.jsonl inline, on Ray with one worker or with many. Rows are
  recorded in trial-id order too: a row that finishes before a lower id waits in
  generation.jsonl (fsynced) until its turn. Workers idle at each generation's end: the cost is
  measured in benchmarks/bench_sync.py.

  Resume: the strategy restarts from its state at the end of the last whole generation (from its
  seed, replaying every whole generation from the ledger, when no usable state is left); the
  generation in progress is proposed again — the same candidates under the same ids — and only
  those of its trials found in neither trials.jsonl nor generation.jsonl are run. A killed and
  resumed search thus writes the same ledger as an uninterrupted one, and runs no finished trial
  twice.

A trial scheduler (`--scheduler asha|hyperband`, nas.runners.trial) works inside either schedule:
it only decides when a running trial ends. A stopped trial reaches `finished` like any other, its
row's reward computed from the metric of the epoch it reached, and is observed like any other
(with the synchronous schedule: within its generation, which thus ends sooner). With several
workers the scheduler's decisions depend on the order epoch results arrive in, so a synchronous
search with a scheduler is reproducible when its trials run one at a time (inline, or Ray with
one worker: the same ledger); a resumed one replays its finished rows into the scheduler first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from search_spaces import Arch, InputError, MnasNetSpace

from .ledger import Ledger
from .strategies import Strategy

Record = Callable[[dict[str, Any]], None]
Save = Callable[[list[str]], None]


def trial_key(trial_id: int) -> str:
    """The ledger key of a strategy's proposal `trial_id` (t00000, t00001, ...)."""
    return f"t{trial_id:05d}"


def trial_number(key: str) -> int:
    """The proposal id of a ledger key (-1 for keys no strategy gave)."""
    return int(key[1:]) if key.startswith("t") and key[1:].isdigit() else -1


class Schedule(Protocol):
    def next(self) -> tuple[str, list[int]] | None: ...

    def finished(self, row: dict[str, Any]) -> None: ...

    def failed(self, key: str) -> None: ...


class AsyncSchedule:
    """Propose while fewer than `total` trials are done or running; observe each result as it comes.

    `rows`: the ledger's rows (a resumed run); those the restored strategy has not seen
    (`observed`: the keys its saved state covers) are told to it now."""

    def __init__(self, strategy: Strategy, space: MnasNetSpace, total: int, rows: list[dict[str, Any]],
                 observed: Iterable[str], record: Record, save: Save) -> None:
        self.strategy, self.total, self.record, self.save = strategy, total, record, save
        self.pending: dict[str, int] = {}
        self.done = len(rows)
        known, told = set(observed), []
        for row in rows:  # rows finished after the last state save (or with no state at all)
            if row["trial"] not in known:
                strategy.tell(space.encode(Arch.from_dict(row["arch"])), row["reward"])
                told.append(row["trial"])
        if told:
            save(told)
        strategy.next_id = max([strategy.next_id] + [trial_number(r["trial"]) + 1 for r in rows])

    def next(self) -> tuple[str, list[int]] | None:
        if self.done + len(self.pending) >= self.total:
            return None
        trial_id, tokens = self.strategy.propose()
        key = trial_key(trial_id)
        self.pending[key] = trial_id
        return key, tokens

    def finished(self, row: dict[str, Any]) -> None:
        self.record(row)
        self.done += 1
        key = row["trial"]
        self.strategy.observe(self.pending.pop(key), row["reward"])
        self.save([key])

    def failed(self, key: str) -> None:
        self.strategy.discard(self.pending.pop(key))


class SyncSchedule:
    """Generations of `size` proposals, each observed whole and in trial-id order (module docstring).

    `rows`: the ledger's rows; `observed`: the keys the restored strategy's state covers (every
    row of the generations before its next proposal); `held`: generation.jsonl."""

    def __init__(self, strategy: Strategy, space: MnasNetSpace, size: int, total: int, rows: list[dict[str, Any]],
                 observed: Iterable[str], held: Ledger, record: Record, save: Save) -> None:
        if size < 1:
            raise InputError(f"generation size must be >= 1, got {size}")
        self.strategy, self.space, self.size, self.total = strategy, space, size, total
        self.held, self.record, self.save = held, record, save
        self.recorded = {row["trial"] for row in rows}
        self.results: dict[str, dict[str, Any]] = {row["trial"]: row for row in rows}
        for row in held.read():  # finished in the generation a killed run left; not yet in trials.jsonl
            self.results.setdefault(row["trial"], row)
        self.observed = len(set(observed))
        self.generation: list[tuple[str, int, list[int]]] = []  # (key, id, tokens) of the one in progress
        self.queue: list[str] = []  # its keys not yet handed to the runner
        self.lost: set[str] = set()  # its keys that failed for good
        self.released = 0  # how many of its keys are settled (recorded or lost), in id order
        self._advance()  # (a resumed run: finished generations replayed, a foreign ledger refused, now)

    # ---------------------------------------------------------------- runner side
    def next(self) -> tuple[str, list[int]] | None:
        self._advance()
        if not self.queue:
            return None  # wait for the generation in flight, or all done
        key = self.queue.pop(0)
        return key, next(tokens for k, _, tokens in self.generation if k == key)

    def finished(self, row: dict[str, Any]) -> None:
        key = row["trial"]
        self.held.append(row)
        self.results[key] = row
        self._settle()

    def failed(self, key: str) -> None:
        self.lost.add(key)
        self.strategy.discard(trial_number(key))
        self._settle()

    # ---------------------------------------------------------------- generations
    def _advance(self) -> None:
        """Open generations until one has trials to run (those already finished settle at once)."""
        while not self.queue and not self.generation and self.observed < self.total:
            self._open()

    def _open(self) -> None:
        """Propose the next generation; its trials already finished (a resumed run) are not queued."""
        for _ in range(min(self.size, self.total - self.observed)):
            trial_id, tokens = self.strategy.propose()
            key = trial_key(trial_id)
            self.generation.append((key, trial_id, tokens))
            if key not in self.results:
                self.queue.append(key)
            elif self.space.encode(Arch.from_dict(self.results[key]["arch"])) != tokens:
                raise InputError(f"{self.held.dir}: trial {key} in the ledger is not the candidate this search "
                                 "proposes for it (the folder was written by another version or mode of the "
                                 "search); resume it with the options it was started with, or use a new --out")
        self.lost.clear()
        self.released = 0
        self._settle()

    def _settle(self) -> None:
        """Record the rows whose turn came; when the whole generation is settled, observe it in order."""
        while self.released < len(self.generation):
            key = self.generation[self.released][0]
            if key in self.results:
                if key not in self.recorded:
                    self.record(self.results[key])
                    self.recorded.add(key)
            elif key not in self.lost:
                return
            self.released += 1
        if not self.generation:
            return
        keys = []
        for key, trial_id, _ in self.generation:
            if key in self.results:
                self.strategy.observe(trial_id, self.results[key]["reward"])
                keys.append(key)
        self.observed += len(keys)
        self.generation = []
        self.save(keys)
        self.held.remove()


def make_schedule(config: Mapping[str, Any], strategy: Strategy, space: MnasNetSpace, rows: list[dict[str, Any]],
                  observed: Iterable[str], held: Ledger, record: Record, save: Save) -> Schedule:
    """The schedule a search config asks for (`synchronous`, `generation`)."""
    total = int(config["trials"])
    if not config.get("synchronous", False):
        return AsyncSchedule(strategy, space, total, rows, observed, record, save)
    size = int(config.get("generation") or strategy.generation)
    return SyncSchedule(strategy, space, size, total, rows, observed, held, record, save)
