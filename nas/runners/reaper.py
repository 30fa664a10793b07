"""Reaper of an embedded Ray: kills what is left of it when its driver dies without shutting it down.

Ray fate-shares its GCS, raylet and workers with the driver, but its dashboard and runtime-env
agents outlive a SIGKILLed driver (Ray 2.60: they notice the raylet's death and call sys.exit()
from a background task, which does not end the process). So after starting an embedded Ray the
driver starts this process (`python -m nas.runners.reaper PID...`, the pids of the processes
ray.init started), in a session of its own, holding its stdin. While the driver lives the reaper
keeps a list of those processes and their descendants (pid and start time); a "stop" line (the
driver shut Ray down) ends it; end-of-file without one (the driver died) makes it kill every
listed process still alive, checking the start time so no recycled pid is touched.
"""

from __future__ import annotations

import select
import sys
from collections.abc import Iterable

import psutil

POLL_S = 1.0  # how often the list of Ray's processes is refreshed


def descendants(roots: Iterable[int]) -> dict[int, float]:
    """pid -> start time of the processes `roots` and all their descendants (those alive now)."""
    found: dict[int, float] = {}
    for pid in roots:
        try:
            root = psutil.Process(pid)
            for proc in (root, *root.children(recursive=True)):
                found[proc.pid] = proc.create_time()
        except psutil.Error:
            continue
    return found


def kill(processes: dict[int, float]) -> int:
    """SIGKILL each (pid, start time) still running; how many were."""
    killed = 0
    for pid, started in processes.items():
        try:
            proc = psutil.Process(pid)
            if proc.create_time() == started and proc.status() != psutil.STATUS_ZOMBIE:
                proc.kill()
                killed += 1
        except psutil.Error:
            continue
    return killed


def watch(roots: list[int], poll_s: float = POLL_S) -> int:
    """Track `roots` until stdin says "stop" (0) or closes (the driver died: kill them all, 1)."""
    known = descendants(roots)
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], poll_s)
        if ready:
            line = sys.stdin.readline()
            if line.strip() == "stop":
                return 0
            if not line:
                kill(known)
                return 1
        alive = descendants(roots)
        roots = [pid for pid in roots if pid in alive]
        known = {**{pid: t for pid, t in known.items() if psutil.pid_exists(pid)}, **alive}


if __name__ == "__main__":
    sys.exit(watch([int(pid) for pid in sys.argv[1:]]))
