"""The one file writer: atomic writes (temp file in the target's folder, fsync, rename over it).

Rules every write follows (one home: :func:`write_bytes_atomic`):
* only regular files are written: a folder, device, FIFO or socket at the target is refused
  (InputError) and left alone; :func:`check_target` lets a command refuse before costly work;
* a symlink is written through: the file it points to is replaced, the link stays;
* an existing target keeps its permission bits; a new file gets 0o666 minus the umask;
* the temp file is removed on any failure, and an OSError names the target.
"""

from __future__ import annotations

import errno
import io
import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .errors import InputError

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_target(path: str | os.PathLike) -> Path:
    """The real file that writing `path` would replace (symlinks resolved); InputError unless it is a
    regular file or does not exist yet."""
    real = Path(os.path.realpath(os.fspath(path)))
    try:
        mode = real.stat().st_mode
    except FileNotFoundError:
        return real
    except NotADirectoryError:
        raise InputError(f"cannot write {os.fspath(path)!r}: a parent of it is not a folder") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"cannot write {os.fspath(path)!r}: it is {_kind(mode)}, not a regular file")
    return real


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # (no /proc: read it by setting it, then put it back)
    os.umask(mask)
    return mask


def _file_mode(real: Path) -> tuple[int, tuple[int, int] | None]:
    """(permission bits, (uid, gid) of the existing file or None) for the new file at `real`."""
    try:
        info = real.stat()
    except FileNotFoundError:
        return 0o666 & ~_umask(), None
    return stat.S_IMODE(info.st_mode), (info.st_uid, info.st_gid)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes_atomic(path: str | os.PathLike, data: bytes | memoryview) -> Path:
    """Write `data` to `path` so that readers see either the old file or the whole new one."""
    real = check_target(path)
    real.parent.mkdir(parents=True, exist_ok=True)
    mode, owner = _file_mode(real)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    except OSError as error:  # (a read-only or full file system: name the target, not the temp file)
        raise OSError(error.errno, error.strerror, os.fspath(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            if owner is not None and owner != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(handle.fileno(), *owner)
                except OSError:
                    pass  # (only root may give a file away; the bits are kept anyway)
            os.fsync(handle.fileno())
        check_target(path)  # (what was checked may have been swapped meanwhile)
        os.replace(tmp, real)
    except OSError as error:
        _remove(tmp)
        raise OSError(error.errno, error.strerror, os.fspath(path)) from None
    except BaseException:
        _remove(tmp)
        raise
    _fsync_folder(real.parent)
    return Path(path)


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass


def write_with(path: str | os.PathLike, produce: Callable[[IO[bytes]], Any]) -> Path:
    """Atomically write what `produce(handle)` writes to a binary handle (torch.save, savefig, np.save).

    The bytes are produced in memory first, so a full disk fails in Python's own write (an OSError
    naming the target), never inside a library's native writer."""
    check_target(path)  # refuse before the (maybe costly) production
    buffer = io.BytesIO()
    produce(buffer)
    with buffer.getbuffer() as data:  # (no copy: a large export is held in memory once)
        return write_bytes_atomic(path, data)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Atomically write `text` (UTF-8) to `path`."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    """Atomically write `obj` as indented JSON (with a trailing newline)."""
    return write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def append_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Append `data` to the regular file `path` (created if missing) in one write, and fsync it."""
    check_target(path)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o666)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"cannot write {os.fspath(path)!r}: it is {_kind(mode)}, not a regular file")
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path))
        os.fsync(fd)
    finally:
        os.close(fd)

