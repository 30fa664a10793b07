"""A run-folder lock: refuses a second run writing the same folder; stale locks (dead pid) are taken over."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from search_spaces import InputError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """Context manager holding `<folder>/.lock` (O_EXCL create; pid + host inside)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.path = Path(folder) / ".lock"
        self.held = False

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                same_host = holder.get("host") == socket.gethostname()
                if holder and same_host and not _alive(int(holder.get("pid", -1))):
                    self.path.unlink(missing_ok=True)  # stale: its process is gone
                    continue
                raise InputError(f"run folder {str(self.path.parent)!r} is in use by another effnas run "
                                 f"(pid {holder.get('pid', '?')} on {holder.get('host', '?')}); "
                                 f"remove {str(self.path)!r} if that run is gone") from None
            with os.fdopen(fd, "w") as handle:
                handle.write(payload)
            self.held = True
            return self
        raise InputError(f"cannot lock run folder {str(self.path.parent)!r}")

    def _holder(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
