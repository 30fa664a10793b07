"""Ray's private API, as nas/runners uses it: one test per use, checking exactly what the code relies on
against the installed Ray, so a Ray upgrade that changes one fails here, naming the effnas line that
depends on it (pyproject pins Ray to the release these pass on). No ray.init: each test is fast."""

from __future__ import annotations

import importlib
import inspect
import logging
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def used_at(path: str, needle: str) -> str:
    """'nas/runners/x.py:LINE' of the line of `path` that has `needle` (the use a test guards)."""
    for number, line in enumerate((ROOT / path).read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return f"{path}:{number}"
    pytest.fail(f"{path} no longer has {needle!r}: update tests/test_ray_internals.py to what it uses now")


def broken(where: str, what: str) -> str:
    return f"Ray changed {what}, which {where} relies on (Ray pinned in pyproject.toml; fix {where}, then the pin)"


def test_installed_ray_is_the_pinned_release():
    """The tests below pass on the pinned range; a Ray outside it is untested."""
    import ray
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pin = next(Requirement(r) for r in project["dependencies"] if Requirement(r).name == "ray")
    assert pin.specifier and "<" in str(pin.specifier), f"pyproject.toml: Ray must have an upper bound, got {pin}"
    assert pin.specifier.contains(ray.__version__), f"installed Ray {ray.__version__} is outside the pin {pin}"


def test_token_setup_logger_and_notice():
    """nas/runners/ray_runner.py filters the embedded cluster's token notice off the logger of Ray's
    private authentication_token_setup module, by the notice's text."""
    from nas.runners import ray_runner

    where = used_at("nas/runners/ray_runner.py", "logging.getLogger(TOKEN_SETUP_LOGGER)")
    try:
        module = importlib.import_module(ray_runner.TOKEN_SETUP_LOGGER)
    except ImportError as error:
        pytest.fail(broken(where, f"the module {ray_runner.TOKEN_SETUP_LOGGER} ({error})"))
    logger = getattr(module, "logger", None)
    assert isinstance(logger, logging.Logger) and logger.name == ray_runner.TOKEN_SETUP_LOGGER, broken(
        where, f"the logger of {ray_runner.TOKEN_SETUP_LOGGER} (now {getattr(logger, 'name', None)!r})")
    assert ray_runner.TOKEN_SETUP_LOGGER in logging.Logger.manager.loggerDict
    source = inspect.getsource(module)
    assert ray_runner.TOKEN_NOTICE in source and "logger.warning(" in source, broken(
        where, f"the token notice's text ({ray_runner.TOKEN_NOTICE!r} no longer logged by {module.__name__})")


def test_gcs_client_import_and_address_keyword():
    """nas/runners/cluster.py's preflight asks the GCS with `ray._raylet.GcsClient(address=...)`
    (in a child process: the script cluster._GCS_PROBE)."""
    from nas.runners import cluster

    where = used_at("nas/runners/cluster.py", "from ray._raylet import GcsClient")
    assert "GcsClient(address=sys.argv[1])" in cluster._GCS_PROBE, "cluster._GCS_PROBE changed: update this test"
    try:
        from ray._raylet import GcsClient
    except ImportError as error:
        pytest.fail(broken(where, f"ray._raylet.GcsClient ({error})"))
    # A keyword nobody has: Cython names the first unknown keyword, so `address` itself is still taken
    # (no connection is tried: the arguments are refused first).
    with pytest.raises(TypeError) as refused:
        GcsClient(address="127.0.0.1:1", effnas_probe=1)
    assert "effnas_probe" in str(refused.value), broken(where, f"GcsClient's `address` keyword ({refused.value})")


def test_print_to_stdstream_is_patchable_where_raylet_errors_are_printed():
    """nas/runners/cluster.py (quiet_driver / restore_driver) swaps `ray._private.worker.print_to_stdstream`
    for its own (data, ignore_prefix) function, which reads data["pid"] and data["lines"] and hands
    anything else back to Ray's with is_err=True; the swap takes effect because Ray's error listener
    looks the function up as a module global at each call."""
    where = used_at("nas/runners/cluster.py", "worker.print_to_stdstream = worker.print_to_stdstream")
    where += ", " + used_at("nas/runners/cluster.py", "worker.print_to_stdstream, _Quiet.printer =")
    try:
        from ray._private import worker
    except ImportError as error:
        pytest.fail(broken(where, f"ray._private.worker ({error})"))
    printer = getattr(worker, "print_to_stdstream", None)
    assert callable(printer), broken(where, "ray._private.worker.print_to_stdstream (gone)")
    assert list(inspect.signature(printer).parameters) == ["data", "ignore_prefix"], broken(
        where, f"print_to_stdstream's signature (now {inspect.signature(printer)})")
    assert 'data["is_err"]' in inspect.getsource(printer), broken(where, "print_to_stdstream's is_err field")
    listener = getattr(worker, "listen_error_messages", None)
    assert listener is not None and "print_to_stdstream" in listener.__code__.co_names, broken(
        where, "how the error listener calls print_to_stdstream (no longer a module-global lookup)")
    source = inspect.getsource(listener)
    assert '"pid": "raylet"' in source and '"lines":' in source, broken(
        where, "the dict the error listener passes to print_to_stdstream (pid 'raylet', lines)")


def test_tune_object_cache_patch_keeps_idle_actors():
    """nas/runners/ray_runner.py (keep_idle_actors) subclasses Tune's private `_ObjectCache` (its
    `_cached_objects`, `_num_cached_objects`, `num_cached_objects`, `cache_object`,
    `flush_cached_objects`) and swaps the name `_ObjectCache` in ray.tune.execution.tune_controller,
    which TuneController looks up when it builds its actor cache."""
    from nas.runners.ray_runner import keep_idle_actors

    where = used_at("nas/runners/ray_runner.py", "from ray.tune.utils.object_cache import _ObjectCache")
    try:
        from ray.tune.execution import tune_controller
        from ray.tune.utils.object_cache import _ObjectCache
    except ImportError as error:
        pytest.fail(broken(where, f"Tune's _ObjectCache ({error})"))
    assert getattr(tune_controller, "_ObjectCache", None) is _ObjectCache, broken(
        where, "the name _ObjectCache in ray.tune.execution.tune_controller")
    assert "_ObjectCache" in tune_controller.TuneController.__init__.__code__.co_names, broken(
        where, "where TuneController builds its actor cache (no longer tune_controller._ObjectCache)")
    assert list(inspect.signature(_ObjectCache.cache_object).parameters) == ["self", "key", "obj"], broken(
        where, "_ObjectCache.cache_object's signature")
    assert list(inspect.signature(_ObjectCache.flush_cached_objects).parameters) == ["self", "force_all"], broken(
        where, "_ObjectCache.flush_cached_objects's signature")
    with keep_idle_actors(2):
        cache = tune_controller._ObjectCache(may_keep_one=True)
        assert cache.__class__ is not _ObjectCache, broken(where, "_ObjectCache (the patch was not applied)")
        assert cache.cache_object("actor", "a") and cache.cache_object("actor", "b")  # none wanted: kept anyway
        assert cache.num_cached_objects == 2 and cache._num_cached_objects == 2
        assert dict(cache._cached_objects) == {"actor": ["a", "b"]}
        assert list(cache.flush_cached_objects()) == []  # idle actors up to the count stay
        assert sorted(cache.flush_cached_objects(force_all=True)) == ["a", "b"]
    assert tune_controller._ObjectCache is _ObjectCache


def test_tune_controller_logs_trial_failures_with_their_exception():
    """nas/runners/cluster.py's _OneLineTrialErrors filters the logger TUNE_LOGGER for records whose
    message starts "Trial task failed" and carry exc_info."""
    from nas.runners import cluster

    where = used_at("nas/runners/cluster.py", "TUNE_LOGGER = ")
    module = importlib.import_module(cluster.TUNE_LOGGER)
    assert getattr(module, "logger", None) is logging.getLogger(cluster.TUNE_LOGGER), broken(
        where, f"the logger of {cluster.TUNE_LOGGER}")
    source = inspect.getsource(module)
    assert 'logger.error(f"Trial task failed for trial {trial}", exc_info=' in source, broken(
        where, "Tune's 'Trial task failed' log record (text or exc_info)")


def test_worker_niceness_variable():
    """nas/runners/ray_runner.py sets RAY_worker_niceness for the raylet an embedded ray.init starts."""
    from ray._private import ray_constants

    from nas.runners.ray_runner import NICENESS_VARIABLE

    where = used_at("nas/runners/ray_runner.py", "NICENESS_VARIABLE, WORKER_NICENESS = ")
    assert getattr(ray_constants, "RAY_WORKER_NICENESS", None) == NICENESS_VARIABLE, broken(
        where, "the worker niceness variable (ray._private.ray_constants.RAY_WORKER_NICENESS)")
