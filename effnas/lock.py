"""The run-folder lock: one effnas run writes a run folder at a time.

`<folder>/.lock` is held with flock() for the life of the run (the kernel drops it when the process
dies, even by SIGKILL) and records who holds it: pid, host, the process's start time (field 22 of
/proc/<pid>/stat, so a reused pid is told apart), the marker "effnas" and the command line. A lock
file whose holder is provably not a live effnas run is taken over: its pid is dead, or alive with
another start time, or (a record without a start time) alive without "effnas" on its command line,
or the file is empty/corrupt and older than GRACE_S. A lock recorded on another host is never
taken over (that host cannot be asked); the message says which file to remove.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import sys
import time
from pathlib import Path
from typing import Any

from search_spaces import InputError

MARKER = "effnas"
GRACE_S = 5.0  # an empty or unreadable lock file younger than this may be one being written


def process_start(pid: int) -> int | None:
    """Start time of process `pid` in clock ticks since boot (Linux /proc), None if unknown or gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read()
    except OSError:
        return None
    try:  # the command name (field 2) may hold spaces and ')': fields resume after its last ')'
        return int(text[text.rindex(b")") + 2:].split()[19])
    except (ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _command_line(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def holder_gone(record: dict[str, Any] | None, age_s: float) -> bool:
    """True when the lock `record` (None: empty or corrupt file, `age_s` old) provably belongs to no
    live effnas run on this host."""
    if record is None:
        return age_s > GRACE_S
    if record.get("host") != socket.gethostname():
        return False
    pid = record["pid"]
    if not _alive(pid):
        return True
    started, now = record.get("start"), process_start(pid)
    if isinstance(started, int) and now is not None:
        return started != now  # the pid was reused by another process
    command = _command_line(pid)
    return command is not None and MARKER not in command


def _record() -> dict[str, Any]:
    return {"marker": MARKER, "pid": os.getpid(), "host": socket.gethostname(), "start": process_start(os.getpid()),
            "since": time.time(), "command": " ".join(sys.argv)[:500]}


def _describe(record: dict[str, Any] | None) -> str:
    if record is None:
        return "another effnas run (its lock is being written)"
    since = record.get("since")
    when = time.strftime(" since %Y-%m-%d %H:%M:%S", time.localtime(since)) if isinstance(since, int | float) else ""
    return f"another effnas run (pid {record.get('pid', '?')} on {record.get('host', '?')}{when})"


class RunLock:
    """Context manager holding `<folder>/.lock`; InputError when a live run holds it."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.path = Path(folder) / ".lock"
        self.fd: int | None = None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def acquire(self) -> RunLock:
        for _ in range(5):  # (retried when the file was replaced between open and lock)
            fd, created = self._open()
            try:
                if self._take(fd, created):
                    self.fd, fd = fd, None
                    return self
            except BaseException:
                if created:  # (e.g. a full disk: leave no empty lock file behind)
                    self._unlink_if_ours(fd)
                raise
            finally:
                if fd is not None:
                    os.close(fd)
        raise InputError(f"cannot lock run folder {str(self.path.parent)!r}: its lock file keeps changing")

    def _open(self) -> tuple[int, bool]:
        """(descriptor of the lock file, whether this call created it)."""
        flags = os.O_RDWR | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        while True:
            try:
                return os.open(self.path, flags | os.O_CREAT | os.O_EXCL, 0o666), True
            except FileExistsError:
                pass
            try:
                fd = os.open(self.path, flags)
                break
            except FileNotFoundError:  # (released between the two opens, or a dangling link)
                if self.path.is_symlink():
                    raise InputError(f"cannot lock run folder: {str(self.path)!r} is a broken link") from None
                continue
            except IsADirectoryError:
                raise InputError(f"cannot lock run folder: {str(self.path)!r} is a folder; remove it") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise InputError(f"cannot lock run folder: {str(self.path)!r} is not a regular file; remove it")
        return fd, False

    def _take(self, fd: int, created: bool) -> bool:
        """Lock `fd` and write our record; False if the path no longer names this file (retry)."""
        if _flock(fd) is False:  # a live process holds it
            raise InputError(self._refusal(_read(fd)))
        info = os.fstat(fd)
        try:
            if os.stat(self.path).st_ino != info.st_ino:
                return False
        except FileNotFoundError:
            return False
        record = _read(fd)
        if not created and not holder_gone(record, time.time() - info.st_mtime):
            raise InputError(self._refusal(record))
        data = json.dumps(_record()).encode()
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
            os.fsync(fd)
        except OSError as error:
            raise OSError(error.errno, error.strerror, str(self.path)) from None
        return True

    def _refusal(self, record: dict[str, Any] | None) -> str:
        return (f"run folder {str(self.path.parent)!r} is in use by {_describe(record)}; if that run is gone, "
                f"remove {str(self.path)!r}")

    def _unlink_if_ours(self, fd: int) -> None:
        try:
            if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                self.path.unlink()
        except FileNotFoundError:
            pass

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self._unlink_if_ours(self.fd)  # (before closing, so no one locks the unlinked file)
        finally:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _flock(fd: int) -> bool | None:
    """True: locked; False: another process holds it; None: this file system has no flock."""
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as error:
        if error.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            return None
        raise
    return True


def _read(fd: int) -> dict[str, Any] | None:
    """The lock's record; None when the file is empty or holds no record (corrupt)."""
    try:
        data = os.pread(fd, 4096, 0)
        record = json.loads(data) if data.strip() else None
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("host"), str):
        return None
    pid = record.get("pid")
    return record if isinstance(pid, int) and not isinstance(pid, bool) else None
