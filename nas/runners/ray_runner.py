"""The Ray runner: Ray Tune is the engine. The strategy plugs in as a Tune `Searcher`
(suggest / on_trial_complete), each candidate runs as a Tune trial of the function trainable
`nas.runners.trial.tune_trainable` (importable on every worker) with per-trial resources, a
concurrency limit (`ConcurrencyLimiter`) and `FailureConfig(max_failures)` retries of trials
whose worker died. Without an address an embedded local Ray sized to this machine is started;
an address (argument or RAY_ADDRESS) joins a cluster after a socket probe of its GCS port, so an
unreachable address fails in seconds instead of Ray's minutes of retries.

Ray's lifetime: a run shuts down the Ray it started, unless a `session()` (a pipeline job) keeps
it for the next stage and shuts it down at its end. While Ray is up, SIGTERM raises `Terminated`
(a KeyboardInterrupt, as Ctrl+C does: Tune's own SIGINT handler is turned off), so Ray is shut
down on the way out; a SIGKILLed driver leaves its embedded Ray to `nas.runners.reaper`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from search_spaces import InputError

from . import cluster

PROBE_TIMEOUT_S = 5.0


class Terminated(KeyboardInterrupt):
    """SIGTERM while Ray is up: unwinds the driver like Ctrl+C, so Ray is shut down on the way out."""

    signum = signal.SIGTERM


class _Ray:
    """This process's hold on Ray: open `session()` blocks, whether one must shut Ray down at its
    end, the reaper of an embedded Ray, and the SIGTERM handler to give back."""

    sessions = 0
    owned = False
    reaper: subprocess.Popen | None = None
    sigterm: Any = None


# Ray starts worker processes at nice 15 (RAY_worker_niceness). An embedded Ray is this job's own: its
# trials run at the priority the inline runner would have, unless the user set the variable.
NICENESS_VARIABLE, WORKER_NICENESS = "RAY_worker_niceness", 0
# Ray's once-per-start notice that an embedded cluster enabled token auth, logged by this (private) module's
# logger; tests/test_ray_internals.py checks both against the installed Ray.
TOKEN_SETUP_LOGGER = "ray._private.authentication.authentication_token_setup"
TOKEN_NOTICE = "Token authentication is enabled"


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated(f"terminated (signal {signum})")


def _children() -> set[int]:
    import psutil

    return {proc.pid for proc in psutil.Process().children(recursive=True)}


def _start_reaper(pids: set[int]) -> None:
    """Start nas.runners.reaper on the processes an embedded ray.init just started."""
    if pids:
        _Ray.reaper = subprocess.Popen([sys.executable, "-m", "nas.runners.reaper", *map(str, sorted(pids))],
                                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       text=True, start_new_session=True)


def shutdown() -> None:
    """Disconnect from Ray (an embedded Ray stops), stop its reaper, give SIGTERM back."""
    import ray

    ray.shutdown()
    cluster.restore_driver()
    reaper, _Ray.reaper = _Ray.reaper, None
    if reaper is not None:
        try:
            reaper.communicate("stop\n", timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            reaper.kill()
    if _Ray.sigterm is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _Ray.sigterm)
    _Ray.sigterm = None


def release(started: bool) -> None:
    """End of a run: shut down the Ray it `started`, unless a session keeps it for the next stage."""
    if started and _Ray.sessions:
        _Ray.owned = True
    elif started:
        shutdown()


@contextmanager
def session() -> Iterator[None]:
    """One Ray for every run inside the block (a pipeline job's stages): the first run that needs Ray
    starts or joins it, later runs reuse it, and the block's end (success, error, Ctrl+C, SIGTERM)
    shuts down the Ray started inside it. Nothing is started for a block that runs nothing on Ray."""
    _Ray.sessions += 1
    try:
        yield
    finally:
        _Ray.sessions -= 1
        if not _Ray.sessions and _Ray.owned:
            _Ray.owned = False
            shutdown()


def probe_address(address: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Raise InputError unless a TCP connection to the cluster address ("host:port") opens."""
    target = address.split("://", 1)[-1].rstrip("/")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"Ray address must be host:port (or 'auto'), got {address!r}")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as error:
        raise InputError(f"cannot reach the Ray cluster at {address}: {error.strerror or error}") from None


def connect(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Make sure Ray is initialised; returns True if this call started it (the caller then calls
    `release(True)` or `shutdown()`).

    `address` None (and no RAY_ADDRESS): an embedded local Ray with `num_cpus` (default: this
    machine's CPUs), no dashboard, workers' output not forwarded to the driver, a reaper, and its
    trial workers at the driver's priority (`WORKER_NICENESS`; Ray's default of nice 15 starves
    trials whenever anything else runs on the machine: a measured 9 s of CPU in 168 s of wall).
    """
    import ray

    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    sigterm = signal.getsignal(signal.SIGTERM)
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING,
             "configure_logging": True}
    if address and address not in ("local",):
        if address != "auto":
            cluster.check_address(address)  # (unreachable, not Ray, token refused: one line, within 30 s)
        quiet.pop("include_dashboard")
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, TimeoutError) as error:
            raise InputError(f"cannot join the Ray cluster at {address}: {error}") from None
        except ray.exceptions.AuthenticationError:
            raise InputError(f"cannot join the Ray cluster at {address}: {cluster.token_problem()}") from None
    else:
        # the embedded cluster keeps Ray's default token auth; only its once-per-start notice is dropped
        logging.getLogger(TOKEN_SETUP_LOGGER).addFilter(lambda record: TOKEN_NOTICE not in record.getMessage())
        os.environ.setdefault(NICENESS_VARIABLE, str(WORKER_NICENESS))  # (read by the raylet ray.init starts)
        before = _children()
        ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1, **quiet)
        _start_reaper(_children() - before)
    cluster.quiet_driver()  # Ray's chatter off stdout (--json), a failed trial's traceback one line
    if threading.current_thread() is threading.main_thread():  # (ray.init put its own, noisy, handler there)
        _Ray.sigterm = sigterm
        signal.signal(signal.SIGTERM, _terminate)
    return True


def check_fits(cpus_per_trial: float, gpus_per_trial: float = 0.0, nodes: list[dict] | None = None) -> None:
    """Refuse a per-trial request that no node can hold (Ray would wait for it forever). `nodes`:
    the resources of each node; default: the live nodes of the connected cluster."""
    if nodes is None:
        import ray

        nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    wants = (("CPU", cpus_per_trial, "--cpus-per-trial"), ("GPU", gpus_per_trial, "--gpus-per-trial"))
    for name, wanted, flag in wants:
        largest = max((resources.get(name, 0.0) for resources in nodes), default=0.0)
        if wanted and wanted > largest:
            raise InputError(f"{flag} {wanted:g} is more than any node of the Ray cluster has "
                             f"(largest: {largest:g} {name}s)")


def local_node(num_cpus: int | None = None) -> dict[str, float]:
    """The resources an embedded (local) Ray would start with on this machine."""
    import torch

    return {"CPU": float(num_cpus or os.cpu_count() or 1), "GPU": float(torch.cuda.device_count())}


@contextmanager
def keep_idle_actors(count: int) -> Iterator[None]:
    """Let Ray Tune keep up to `count` idle trial actors for reuse (while a Tuner is built and fits).

    Tune (2.60, reuse_actors=True) keeps one idle actor when no trial is waiting and stops the
    others. A synchronous search has no trial waiting at each generation's end, so all but one
    worker's actor stop there, and the replacements (a fresh process importing torch and loading
    data: ~10 s on a loaded 2-core machine) lose the race to the one kept: a generation of short
    trials then ran on a single worker. Keeping `count` (= max_concurrent) idle actors restores
    all workers. Patches Tune's private actor cache; where it is not there, nothing is patched."""
    try:
        from ray.tune.execution import tune_controller
        from ray.tune.utils.object_cache import _ObjectCache
    except ImportError:
        yield
        return

    class IdleCache(_ObjectCache):
        def cache_object(self, key: Any, obj: Any) -> bool:
            if self.num_cached_objects < count:
                self._cached_objects[key].append(obj)
                self._num_cached_objects += 1
                return True
            return super().cache_object(key, obj)

        def flush_cached_objects(self, force_all: bool = False) -> Iterator[Any]:
            if force_all or self.num_cached_objects > count:
                yield from super().flush_cached_objects(force_all)

    original = getattr(tune_controller, "_ObjectCache", None)
    if original is not _ObjectCache:
        yield
        return
    tune_controller._ObjectCache = IdleCache
    try:
        yield
    finally:
        tune_controller._ObjectCache = original


def _trial_name(trial: Any) -> str:
    return f"{trial.config.get('key', 'trial')}_{trial.trial_id}"


def _max_concurrent(max_concurrent: int | None, cpus_per_trial: float) -> int:
    """The concurrency limit: as given, or as many trials as the cluster's CPUs hold."""
    if max_concurrent is None:
        import ray

        cpus = ray.cluster_resources().get("CPU", 1.0)
        max_concurrent = max(1, int(cpus // cpus_per_trial))
    if max_concurrent < 1:
        raise InputError(f"max concurrent trials must be >= 1, got {max_concurrent}")
    return max_concurrent


def _searcher(source: Callable[[], Any], on_result: Callable[[dict[str, Any]], None],
              on_failure: Callable[[str], None] | None, failed: list[str], evaluator: str,
              config: Mapping[str, Any], cpus_per_trial: float, report_epochs: Sequence[int] | None = None) -> Any:
    """The strategy as a Tune Searcher: asks `source` for the next candidate and reports back
    (failed keys appended to `failed`). `report_epochs` (a trial scheduler is on: its rung epochs):
    trials report after those, and a trial the scheduler stops completes with its last report's row."""
    from ray.tune.search import Searcher

    from ..threads import trial_threads

    class StrategySearcher(Searcher):
        """Tune Searcher that asks `source` for the next candidate and reports back. `source()`
        None with trials in flight means "ask again later" (a synchronous search waiting for
        its generation to finish); with none in flight, the search is over."""

        def __init__(self) -> None:
            super().__init__(metric="metric", mode="max")
            self.keys: dict[str, str] = {}

        def suggest(self, trial_id: str) -> dict | None:
            item = source()
            if item is None:
                return None if self.keys else Searcher.FINISHED
            key, arch = item
            self.keys[trial_id] = key
            trial = {"key": key, "arch": arch.to_dict(), "evaluator": evaluator, "config": dict(config),
                     "threads": trial_threads(cpus_per_trial)}
            return trial if report_epochs is None else {**trial, "report_epochs": list(report_epochs)}

        def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
            key = self.keys.pop(trial_id, None)
            if key is None:
                return
            if error or not result or "row" not in result:
                failed.append(key)
                if on_failure:
                    on_failure(key)
                return
            on_result(json.loads(result["row"]))

        def save(self, checkpoint_path: str) -> None:  # the run folder's ledger is the checkpoint
            pass

        def restore(self, checkpoint_path: str) -> None:
            pass

    return StrategySearcher()


def _tuner(searcher: Any, storage: str, cpus_per_trial: float, gpus_per_trial: float, max_failures: int,
           scheduler: Any = None) -> Any:
    """The Tune Tuner: `nas.runners.trial.tune_trainable` with per-trial resources, trials reusing
    actors, `max_failures` retries of a trial whose worker died, Tune's files in `storage`;
    `scheduler`: a Tune trial scheduler (None: Tune's FIFO, every trial runs to its end)."""
    from ray import tune

    from .trial import tune_trainable

    resources = {"cpu": cpus_per_trial, **({"gpu": gpus_per_trial} if gpus_per_trial else {})}
    trainable = tune.with_resources(tune_trainable, resources)
    return tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=searcher, num_samples=-1, reuse_actors=True,
                                    trial_name_creator=_trial_name, trial_dirname_creator=_trial_name,
                                    **({"scheduler": scheduler} if scheduler is not None else {})),
        run_config=tune.RunConfig(name="effnas", storage_path=storage, verbose=0,
                                  failure_config=tune.FailureConfig(max_failures=max_failures),
                                  checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=False)))


def run_ray(source: Callable[[], Any], on_result: Callable[[dict[str, Any]], None], evaluator: str,
            config: Mapping[str, Any], on_failure: Callable[[str], None] | None = None, ray_address: str | None = None,
            max_concurrent: int | None = None, cpus_per_trial: float = 1.0, max_failures: int = 3,
            num_cpus: int | None = None, gpus_per_trial: float = 0.0, scheduler: Any = None) -> list[str]:
    """Run `source()`'s candidates as Ray Tune trials until it returns None with nothing in flight.

    `on_result(row)` is called in this (driver) process as each trial finishes; `on_failure(key)`
    for a trial that still failed after `max_failures` retries. Returns the failed keys.
    `scheduler` (a nas.runners.schedulers.Scheduling): Tune stops trials early as it decides; a stopped
    trial's row (its last epoch's) goes to `on_result` like any other.
    """
    from ray.tune.search import ConcurrencyLimiter

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")  # Ctrl+C: KeyboardInterrupt, not a quiet stop
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "1000")
    started = connect(ray_address, num_cpus)
    failed: list[str] = []
    storage = tempfile.mkdtemp(prefix="effnas-tune-")
    try:
        check_fits(cpus_per_trial, gpus_per_trial)
        max_concurrent = _max_concurrent(max_concurrent, cpus_per_trial)
        searcher = ConcurrencyLimiter(_searcher(source, on_result, on_failure, failed, evaluator, config,
                                                cpus_per_trial,
                                                report_epochs=None if scheduler is None else scheduler.rung_epochs()),
                                      max_concurrent=max_concurrent)
        tuner = _tuner(searcher, storage, cpus_per_trial, gpus_per_trial, max_failures,
                       scheduler.build() if scheduler is not None else None)
        with keep_idle_actors(max_concurrent):
            tuner.fit()
    finally:
        shutil.rmtree(storage, ignore_errors=True)
        release(started)
    return failed
