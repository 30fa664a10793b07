"""Joining a Ray cluster (nas.runners.cluster): an address that is not a Ray cluster this driver can
join fails within 30 s, in one line naming the cause (reachability, not Ray, authentication) and
the fix, with exit 2 and nothing in --out; Ray's output while connected stays off stdout, and a
failed trial's traceback is one line. The real cluster (`ray start`, token auth, a node killed
mid-trial) is tests/test_ray_cluster_start.py (slow)."""

from __future__ import annotations

import http.server
import io
import logging
import socket
import sys
import threading
import time

import pytest

from nas.runners import cluster
from search_spaces import InputError

SEARCH = ["search", "--target", "400M", "--strategy", "random", "--evaluator", "zero-cost", "--trials", "1",
          "--runner", "ray"]


@pytest.fixture
def http_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    server.RequestHandlerClass.log_message = lambda *args: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent_socket():
    """Accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def closed_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"127.0.0.1:{port}"


@pytest.mark.parametrize("peer, fragment", [("http_server", "not Ray's GCS (an HTTP/1 server answers)"),
                                            ("silent_socket", "accepts connections but says nothing"),
                                            ("closed_port", "cannot reach the Ray cluster")])
def test_bad_address_fails_fast_in_one_line(request, run_cli, tmp_path, peer, fragment):
    address = request.getfixturevalue(peer)
    started = time.monotonic()
    code, out, err = run_cli(*SEARCH, "--ray-address", address, "--out", tmp_path / "run")
    took = time.monotonic() - started
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and out == "", err
    assert len(lines) == 1 and fragment in lines[0] and address in lines[0], err
    assert took < 30, f"{peer}: {took:.1f} s"
    assert not (tmp_path / "run").exists()
    if peer != "closed_port":
        assert "--port" in lines[0]  # (the fix: the head's GCS port)


def test_ray_address_env_checked_too(run_cli, tmp_path, silent_socket, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", silent_socket)
    code, _, err = run_cli(*SEARCH, "--out", tmp_path / "run")
    assert code == 2 and "says nothing" in err and not (tmp_path / "run").exists()


def test_malformed_and_unresolvable_addresses():
    for address in ("127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", ":6379"):
        with pytest.raises(InputError, match="host:port"):
            cluster.check_address(address)
    with pytest.raises(InputError, match="does not resolve"):
        cluster.check_address("no-such-host.invalid:6379")


def test_authentication_refused_names_the_fix(monkeypatch, tmp_path):
    """What the GCS probe's AuthenticationError becomes, for each way the driver's token can be off."""

    class Done:
        returncode = 0
        stdout = "AuthenticationError: RPC error: InvalidAuthToken: Authentication token is missing or incorrect\n"

    monkeypatch.setattr(cluster.subprocess, "run", lambda *args, **kwargs: Done())
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))

    def message() -> str:
        with pytest.raises(InputError) as caught:
            cluster._check_gcs("10.0.0.1:6379", time.monotonic() + 20)
        text = str(caught.value)
        assert "\n" not in text and "authentication refused" in text
        return text

    assert "RAY_AUTH_MODE is not set" in message() and "RAY_AUTH_MODE=token" in message()
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    assert "no token is set" in message()
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(tmp_path / "token"))
    assert "no token is set" in message()  # (the file it names is not there)
    (tmp_path / "token").write_text("0" * 64)
    assert "token from RAY_AUTH_TOKEN_PATH" in message() and "not this cluster's" in message()
    monkeypatch.setenv("RAY_AUTH_TOKEN", "0" * 64)
    assert "token from RAY_AUTH_TOKEN " in message()


def test_gcs_probe_that_hangs_is_bounded(monkeypatch):
    def hang(*args, timeout, **kwargs):
        raise cluster.subprocess.TimeoutExpired("probe", timeout)

    monkeypatch.setattr(cluster.subprocess, "run", hang)
    with pytest.raises(InputError, match="no Ray GCS answered"):
        cluster._check_gcs("10.0.0.1:6379", time.monotonic() + 20)


def test_quiet_driver_keeps_ray_off_stdout(monkeypatch, capsys):
    """Ray's listener thread prints a dead raylet's message (~40 lines) with print_to_stdstream:
    under quiet_driver it is one line on stderr; other threads' stdout goes to stderr; a Tune
    trial-failure traceback is one line; restore_driver puts everything back."""
    from ray._private import worker

    original = worker.print_to_stdstream
    cluster.quiet_driver()
    try:
        assert worker.print_to_stdstream is not original
        tail = "\n".join(f"    [2026-01-01] (raylet) line {i}" for i in range(20))
        message = ("\x1b[33mRaylet is terminated. Termination is unexpected. Possible reasons include: (1) SIGKILL. "
                   f"Last 20 lines of the Raylet logs:\n{tail}")

        def from_ray_thread():
            worker.print_to_stdstream({"lines": [message], "pid": "raylet", "is_err": False}, ignore_prefix=False)
            worker.print_to_stdstream({"lines": [message], "pid": "raylet", "is_err": False}, ignore_prefix=False)
            print("some chatter")

        thread = threading.Thread(target=from_ray_thread)
        thread.start()
        thread.join()
        print('{"json": true}')
        logger = logging.getLogger(cluster.TUNE_LOGGER)
        records: list[logging.LogRecord] = []
        handler = logging.Handler()
        handler.emit = records.append
        logger.addHandler(handler)
        try:
            try:
                raise RuntimeError("The actor is unavailable\nsecond line")
            except RuntimeError as error:
                logger.error("Trial task failed for trial t00001_abc", exc_info=error)
        finally:
            logger.removeHandler(handler)
    finally:
        cluster.restore_driver()
    captured = capsys.readouterr()
    assert captured.out == '{"json": true}\n'
    err = [line for line in captured.err.splitlines() if line.strip()]
    assert err[0] == ("(raylet) Raylet is terminated. Termination is unexpected. Possible reasons include: "
                      "(1) SIGKILL. (full text in Ray's logs)")
    assert err[1] == "some chatter"  # (the repeated message dropped)
    assert "Traceback" not in captured.err and len(err) <= 3  # (+ Ray's own handler's one line, if it has one)
    (record,) = records
    assert record.exc_info is None and "\n" not in record.getMessage()
    assert record.getMessage().startswith("Trial task failed for trial t00001_abc: RuntimeError: The actor is "
                                          "unavailable (retried")
    assert worker.print_to_stdstream is original and not isinstance(sys.stdout, cluster._MainThreadStdout)
    assert cluster._TRIAL_ERRORS not in logging.getLogger(cluster.TUNE_LOGGER).filters


def test_main_thread_stdout_passes_through():
    stream = io.StringIO()
    wrapped = cluster._MainThreadStdout(stream)
    wrapped.write("x")
    wrapped.flush()
    assert stream.getvalue() == "x" and wrapped.getvalue() == "x"
