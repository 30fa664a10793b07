"""Slow: a cluster as users start one today. `ray start` subprocesses on 127.0.0.1 (a head and one
worker node, each with its own temp dir and ports, token authentication on with a token file of the
test's own), `effnas search --ray-address ... --json` as a separate driver process; a driver without
the token is refused in one line; the worker node's raylet is SIGKILLed mid-trial, and every trial
still finishes exactly once with --json valid. Only the processes this test started are stopped
(those whose command line names its temp dirs, and their children): never `ray stop`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
PORT_FLAGS = ("--node-manager-port", "--object-manager-port", "--dashboard-agent-listen-port",
              "--dashboard-agent-grpc-port", "--runtime-env-agent-port", "--metrics-export-port")
PROXY = {"dataset": "digits", "subset": 256, "epochs": 4, "resolution": 32, "batch": 32, "val_size": 64}
TRIALS = 4


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _ours(tags: list[str]) -> list[psutil.Process]:
    """The processes whose command line names one of our temp dirs, and all their children."""
    found: dict[int, psutil.Process] = {}
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            line = " ".join(proc.info["cmdline"] or [])
            if any(tag in line for tag in tags):
                found[proc.pid] = proc
                found.update((child.pid, child) for child in proc.children(recursive=True))
        except psutil.Error:
            continue
    return list(found.values())


def _stop(tags: list[str], also: list[psutil.Process]) -> None:
    procs = {p.pid: p for p in [*_ours(tags), *also]}
    for proc in procs.values():
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(list(procs.values()), timeout=20)


def _ray_start(env: dict[str, str], temp_dir: Path, *args: str) -> None:
    ports = _free_ports(len(PORT_FLAGS))
    flags = [item for flag, port in zip(PORT_FLAGS, ports, strict=True) for item in (flag, str(port))]
    done = subprocess.run([str(Path(sys.executable).parent / "ray"), "start", "--node-ip-address", "127.0.0.1",
                           "--temp-dir", str(temp_dir), "--num-cpus", "1", "--disable-usage-stats", *flags, *args],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def _raylet(tag: str) -> psutil.Process | None:
    for proc in psutil.process_iter(["pid", "cmdline"]):
        line = " ".join(proc.info["cmdline"] or [])
        if "raylet/raylet" in line and tag in line:
            return proc
    return None


def _search(env: dict[str, str], address: str, out: Path, timeout: float) -> subprocess.CompletedProcess:
    opts = [item for key, value in PROXY.items() for item in ("--eval-opt", f"{key}={value}")]
    return subprocess.run([sys.executable, "-m", "effnas.cli", "search", "--target", "400M", "--strategy", "random",
                           "--evaluator", "proxy", *opts, "--trials", str(TRIALS), "--runner", "ray",
                           "--ray-address", address, "--max-concurrent", "2", "--async", "--json", "--out",
                           str(out)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def test_token_cluster_node_killed_mid_trial(tmp_path):
    token = tmp_path / "token"
    token.write_text(os.urandom(32).hex())
    short = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))  # (Ray's socket paths must fit in 107 bytes)
    head_dir, worker_dir = short / "h", short / "w"
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token), "PYTHONPATH": str(ROOT)}
    for name in ("RAY_ADDRESS", "RAY_AUTH_TOKEN"):
        env.pop(name, None)
    gcs, dashboard = _free_ports(2)
    address = f"127.0.0.1:{gcs}"
    tags = [str(head_dir), str(worker_dir)]
    killed: list[psutil.Process] = []
    started = time.monotonic()
    try:
        _ray_start(env, head_dir, "--head", "--port", str(gcs), "--dashboard-port", str(dashboard),
                   "--include-dashboard", "false")
        _ray_start(env, worker_dir, "--address", address)

        # a driver without the token, and one with another token: refused in one line, nothing written
        for name, value in (("RAY_AUTH_MODE", None), ("RAY_AUTH_TOKEN", "0" * 64)):
            bad = {k: v for k, v in env.items() if k != name}
            if value is not None:
                bad[name] = value
            begun = time.monotonic()
            refused = _search(bad, address, tmp_path / "refused", timeout=120)
            lines = [line for line in refused.stderr.splitlines() if line.strip()]
            assert refused.returncode == 2 and len(lines) == 1, refused.stderr
            assert "authentication refused" in lines[0] and "RAY_AUTH_TOKEN" in lines[0], lines[0]
            assert time.monotonic() - begun < 30 and not (tmp_path / "refused").exists()

        raylet = _raylet(str(worker_dir))
        assert raylet is not None, "the worker node's raylet is not running"

        def kill_mid_trial():
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    trials = [child for child in raylet.children(recursive=True)
                              if "ImplicitFunc" in " ".join(child.cmdline()) or
                              "tune_trainable" in " ".join(child.cmdline())]
                except psutil.Error:
                    return
                if trials:
                    time.sleep(2)  # (into the trial)
                    killed.extend(raylet.children(recursive=True))
                    raylet.send_signal(signal.SIGKILL)
                    killed.append(raylet)
                    return
                time.sleep(0.2)

        killer = threading.Thread(target=kill_mid_trial, daemon=True)
        killer.start()
        done = _search(env, address, tmp_path / "run", timeout=600)
        killer.join(timeout=5)
    finally:
        _stop(tags, killed)
        shutil.rmtree(short, ignore_errors=True)
    assert not _ours(tags), "a process this test started is still running"
    assert killed, "no trial ran on the worker node"
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # (valid JSON: Ray's raylet chatter is not on stdout)
    assert summary["done"] == summary["total"] == TRIALS
    rows = [json.loads(line) for line in (tmp_path / "run" / "trials.jsonl").read_text().splitlines()]
    assert sorted(row["trial"] for row in rows) == [f"t{i:05d}" for i in range(TRIALS)]  # each exactly once
    assert "Traceback" not in done.stderr, done.stderr
    failed = [line for line in done.stderr.splitlines() if "Trial task failed" in line]
    assert 1 <= len(failed) <= 3, done.stderr  # one line per retry
    print(f"cluster test: {time.monotonic() - started:.0f} s; stderr:\n{done.stderr}")
